/**
 * What compose is pointed at: a generated file, the project name, `.env` and the user's
 * compose.override.yaml. `up` regenerates `_build/` first and acts on that; the other commands
 * act on the generation compose last accepted (`_build/applied/`), which describes what runs
 * even if config.yaml, or a failed `up`, has changed `_build/` since.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { dirname } from "node:path";
import type { ProjectPaths } from "../config/load.ts";
import { CslrError, UsageError } from "../errors.ts";
import type { ComposeTarget } from "./argv.ts";

/** The parts of a generated compose file cslr reads back. */
export interface ComposeDoc {
  name?: unknown;
  services?: Record<string, { ports?: unknown[]; environment?: Record<string, unknown>; network_mode?: unknown } | null>;
  networks?: Record<string, { ipam?: { config?: ({ subnet?: unknown } | null)[] } } | null>;
}

/** Points compose at `file` (default: `_build/compose.yaml`); the override applies to the main stack only, not the cluster test's. */
export function composeTarget(paths: ProjectPaths, projectName: string, file = paths.composeFile): ComposeTarget {
  const main = file !== paths.clusterTestFile;
  return {
    composeFile: file,
    projectName,
    envFile: existsSync(paths.envFile) ? paths.envFile : undefined,
    projectDir: paths.dir,
    overrideFile: main && existsSync(paths.overrideFile) ? paths.overrideFile : undefined,
  };
}

/** Reads a generated compose file; its top-level `name:` is the project it belongs to. */
export function readComposeFile(file: string, howToCreate = "run `cslr up` (or `cslr generate`) first"): { doc: ComposeDoc; projectName: string; text: string } {
  if (!existsSync(file)) throw new CslrError(`no generated compose file at ${file}: ${howToCreate}`);
  let doc: ComposeDoc | null;
  const text = readFileSync(file, "utf8");
  try {
    doc = Bun.YAML.parse(text) as ComposeDoc | null;
  } catch (error) {
    throw new CslrError(`${file} is not valid YAML (${(error as Error).message.split("\n")[0]}): regenerate it with \`cslr generate\``);
  }
  if (!doc || typeof doc !== "object" || typeof doc.name !== "string" || doc.name === "") {
    throw new CslrError(`${file} has no top-level name: regenerate it with \`cslr generate\``);
  }
  return { doc, projectName: doc.name, text };
}

export function serviceNames(doc: ComposeDoc): string[] {
  return Object.keys(doc.services ?? {});
}

/** After compose accepted `_build/compose.yaml`: it becomes the applied generation (atomic copy). */
export function recordApplied(paths: ProjectPaths): void {
  mkdirSync(dirname(paths.appliedComposeFile), { recursive: true });
  const temp = `${paths.appliedComposeFile}.${process.pid}.tmp`;
  copyFileSync(paths.composeFile, temp);
  renameSync(temp, paths.appliedComposeFile);
}

/** The file commands on the running stack act on: the applied generation, else the latest. */
export function runningComposeFile(paths: ProjectPaths): string {
  return existsSync(paths.appliedComposeFile) ? paths.appliedComposeFile : paths.composeFile;
}

/** Services named on the command line must be in the compose file: exit 2 naming those that are. */
export function checkServices(doc: ComposeDoc, file: string, services: readonly string[]): void {
  const all = serviceNames(doc);
  const unknown = services.filter((s) => !all.includes(s));
  if (unknown.length > 0) throw new UsageError(`no service ${unknown.join(", ")} in ${file}; expected one of: ${all.join(", ")}`);
}
