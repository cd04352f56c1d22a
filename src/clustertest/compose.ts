/**
 * `docker compose` for the test stack.
 * TODO(merge): swap for the shared runner in src/compose/runner.ts (Compose.open with a
 * target of { composeFile, projectName, envFile, projectDir }); the argv is the same.
 */
import { existsSync } from "node:fs";
import { CslrError } from "../errors.ts";
import type { ProbeOutcome } from "./checks.ts";

export interface TestStackTarget {
  composeFile: string;
  projectName: string;
  /** `.env`; left out when it does not exist (compose refuses a missing --env-file). */
  envFile?: string;
  projectDir: string;
}

/** Pure: the full argv of one compose call on the test stack. */
export function testComposeArgv(target: TestStackTarget, args: string[]): string[] {
  const argv = ["docker", "compose", "-p", target.projectName, "-f", target.composeFile];
  if (target.envFile && existsSync(target.envFile)) argv.push("--env-file", target.envFile);
  return [...argv, ...args];
}

function requireDocker(): string {
  const docker = Bun.which("docker");
  if (!docker) throw new CslrError("docker not found on PATH: install Docker with Compose v2 (https://docs.docker.com/engine/install/)");
  return docker;
}

/** Runs compose with its output captured. */
export async function composeCapture(target: TestStackTarget, args: string[]): Promise<ProbeOutcome> {
  const [, ...rest] = testComposeArgv(target, args);
  const proc = Bun.spawn([requireDocker(), ...rest], { cwd: target.projectDir, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Runs compose on the user's terminal; returns its exit code. */
export async function composeInteractive(target: TestStackTarget, args: string[]): Promise<number> {
  const [, ...rest] = testComposeArgv(target, args);
  const proc = Bun.spawn([requireDocker(), ...rest], { cwd: target.projectDir, stdin: "inherit", stdout: "inherit", stderr: "inherit" });
  return await proc.exited;
}

/** Runs compose quietly and throws its last error line when it fails. */
export async function composeOrThrow(target: TestStackTarget, args: string[], what: string): Promise<void> {
  const result = await composeCapture(target, args);
  if (result.code !== 0) {
    const reason = result.stderr.trim().split("\n").filter(Boolean).at(-1) ?? `exit ${result.code}`;
    throw new CslrError(`${what} failed: ${reason}`);
  }
}

/** The State of a service's container from `compose ps --all --format json`, if it exists. */
export function serviceStateOf(psOutput: string, service: string): string | undefined {
  const text = psOutput.trim();
  if (text === "") return undefined;
  const rows: { Service?: string; State?: string }[] = text.startsWith("[")
    ? JSON.parse(text)
    : text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
  return rows.find((r) => r.Service === service)?.State?.toLowerCase();
}
