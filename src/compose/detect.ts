/**
 * Finds a Compose that cslr can drive: Compose v2 as a Docker plugin (`docker compose`), else
 * a standalone `docker-compose` of version 2, else `podman compose`. The choice is a pure
 * function of the probes' results; the probing itself is injected.
 */
import { CslrError } from "../errors.ts";
import type { ComposeTool } from "./argv.ts";

export interface ProbeResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Killed because it took longer than it was allowed. */
  timedOut?: boolean;
}

/** Runs a program and captures its output; null when the program is not on PATH. */
export type Probe = (argv: string[]) => Promise<ProbeResult | null>;

const candidates: { kind: ComposeTool["kind"]; command: string[] }[] = [
  { kind: "docker compose", command: ["docker", "compose"] },
  { kind: "docker-compose", command: ["docker-compose"] },
  { kind: "podman compose", command: ["podman", "compose"] },
];

export const installHint =
  "install Compose v2 (https://docs.docker.com/compose/install/; on Debian/Ubuntu: apt-get install docker-compose-plugin or docker-compose from Debian trixie)";

/** "Docker Compose version v2.26.1", "docker-compose version 1.29.2, build ..." → "2.26.1". */
export function parseComposeVersion(output: string): string | undefined {
  return /version\s+v?(\d+\.\d+(?:\.\d+)?[\w.+-]*)/i.exec(output)?.[1] ?? /\bv?(\d+\.\d+\.\d+)\b/.exec(output)?.[1];
}

export function majorVersion(version: string): number {
  return Number.parseInt(version, 10);
}

export type Detection = { tool: ComposeTool } | { error: string };

/**
 * Chooses from probe results listed in candidate order (null = program absent). A v1
 * docker-compose is skipped but remembered, so the error can say it is too old.
 */
export function chooseCompose(results: (ProbeResult | null)[]): Detection {
  let tooOld: string | undefined;
  for (const [i, result] of results.entries()) {
    const candidate = candidates[i];
    if (!candidate || !result || result.code !== 0) continue;
    const version = parseComposeVersion(result.stdout + result.stderr) ?? "unknown";
    if (candidate.kind === "docker-compose" && version !== "unknown" && majorVersion(version) < 2) {
      tooOld = version;
      continue;
    }
    return { tool: { kind: candidate.kind, command: candidate.command, version } };
  }
  const old = tooOld ? ` (docker-compose ${tooOld} is Compose v1, which is too old)` : "";
  return { error: `no Docker Compose found${old}: ${installHint}` };
}

/** Probes the candidates in order, stopping at the first usable one. */
export async function detectCompose(probe: Probe): Promise<ComposeTool> {
  const results: (ProbeResult | null)[] = [];
  for (const candidate of candidates) {
    results.push(await probe([...candidate.command, "version"]));
    const choice = chooseCompose(results);
    if ("tool" in choice) return choice.tool;
  }
  const choice = chooseCompose(results);
  if ("tool" in choice) return choice.tool;
  throw new CslrError(choice.error);
}

/** Recognises the Docker client's "daemon not running" wording. */
export function isEngineDown(stderr: string): boolean {
  return /Cannot connect to the Docker daemon|Is the docker daemon running|error during connect|docker\.sock: connect/i.test(stderr);
}

/** The line of an engine error that says why; wrappers may print other lines first. */
export function engineFailureLine(detail: string): string {
  const lines = detail
    .trim()
    .split("\n")
    .filter((l) => l.trim() !== "");
  return lines.find(isEngineDown) ?? lines.at(-1) ?? "no output";
}

export function engineDownMessage(tool: ComposeTool, detail: string): string {
  const firstLine = engineFailureLine(detail);
  if (tool.command[0] === "podman") {
    return `Podman is not reachable (podman info failed: ${firstLine}). Start it: systemctl --user start podman.socket`;
  }
  return `Docker engine is not running (docker info failed: ${firstLine}). Start it: sudo systemctl start docker`;
}
