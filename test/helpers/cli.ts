/** Runs the real CLI as a child process: from source, or the compiled binary. */
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const repoRoot = resolve(import.meta.dir, "../..");
export const sourceCli = ["bun", join(repoRoot, "src/cli.ts")];
export const binaryCli = [join(repoRoot, "dist/cslr")];

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; cli?: string[] } = { cwd: process.cwd() },
): Promise<CliResult> {
  const proc = Bun.spawn([...(options.cli ?? sourceCli), ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { exitCode, stdout, stderr };
}

/** Secrets for tests: fixed, recognisable values so a test can look for leaks. */
export const testSecrets = {
  CSLR_CLUSTER_TOKEN: "tok-3f9a1c77e2",
  REDIS_PASSWORD: "redis-8d2e44b0aa",
  POSTGRES_PASSWORD: "pg-51c0e9d7f3",
  MARIMO_TOKEN: "marimo-c4a2b8e611",
};

export function dotenvText(secrets: Record<string, string> = testSecrets): string {
  return Object.entries(secrets).map(([k, v]) => `${k}=${v}\n`).join("");
}

/** A temp project folder with the example config, nodes.yaml and .env unless told otherwise. */
export function makeProject(files: { config?: string | null; nodes?: string | null; env?: string | null } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "cslr-test-"));
  const write = (name: string, content: string | null | undefined, fallback: string) => {
    if (content === null) return;
    if (content === undefined) cpSync(join(repoRoot, fallback), join(dir, name));
    else writeFileSync(join(dir, name), content);
  };
  write("config.yaml", files.config, "config.example.yaml");
  write("nodes.yaml", files.nodes, "nodes.yaml");
  if (files.env !== null) writeFileSync(join(dir, ".env"), files.env ?? dotenvText(), { mode: 0o600 });
  return dir;
}

export function removeProject(dir: string): void {
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}

/** A Linux cslr binary path to satisfy services.health.binary without building one. */
export function fakeHealthBinary(dir: string): string {
  const path = join(dir, "cslr-linux");
  writeFileSync(path, "#!/bin/sh\n", { mode: 0o755 });
  return path;
}
