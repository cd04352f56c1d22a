/**
 * Where this project's PostgreSQL keeps its data, and whether any is there. The password in
 * `.env` was written into that data when PostgreSQL first started; the official image's
 * POSTGRES_PASSWORD only sets it then. A new value in `.env` does not reach existing data.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { probeProgram } from "../compose/runner.ts";

export type PostgresData = { kind: "volume"; name: string } | { kind: "folder"; path: string };

/** The settings that place the data; the same defaults as the schema's. */
export interface PostgresPlacement {
  project: string;
  /** MLflow and its PostgreSQL both enabled. */
  enabled: boolean;
  dataPath?: string;
}

/** Compose names a project's volume PROJECT_KEY; a data_path is a folder beside config.yaml. */
export function postgresData(placement: PostgresPlacement, projectDir: string): PostgresData | undefined {
  if (!placement.enabled) return undefined;
  if (placement.dataPath !== undefined) return { kind: "folder", path: resolve(projectDir, placement.dataPath) };
  return { kind: "volume", name: `${placement.project}_postgres-data` };
}

/** From config.yaml's text without validating it: init must judge even a config with errors. */
export function postgresPlacementOf(configText: string): PostgresPlacement {
  let raw: any;
  try {
    raw = Bun.YAML.parse(configText);
  } catch {
    raw = undefined;
  }
  const mlflow = raw?.services?.mlflow;
  const name = raw?.project?.name;
  const dataPath = mlflow?.postgres?.data_path;
  return {
    project: typeof name === "string" && name !== "" ? name : "cslr",
    enabled: mlflow?.enabled !== false && mlflow?.postgres?.enabled !== false,
    dataPath: typeof dataPath === "string" ? dataPath : undefined,
  };
}

export function describeData(data: PostgresData): string {
  return data.kind === "volume" ? `volume ${data.name}` : `folder ${data.path}`;
}

/**
 * Is there PostgreSQL data? A folder holds PG_VERSION once initialised; a volume is asked of
 * the engine. `undefined` when the engine cannot be asked (the caller says so).
 */
export async function postgresDataExists(data: PostgresData, engine?: string): Promise<boolean | undefined> {
  if (data.kind === "folder") return existsSync(join(data.path, "PG_VERSION"));
  const cli = engine ?? (Bun.which("docker") ? "docker" : Bun.which("podman") ? "podman" : undefined);
  // No container engine on this machine: no volume either.
  if (!cli) return false;
  const result = await probeProgram([cli, "volume", "inspect", data.name]);
  if (!result) return undefined;
  if (result.code === 0) return true;
  return /no such volume/i.test(result.stderr) ? false : undefined;
}
