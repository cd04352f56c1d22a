/**
 * The one way tests run the real CLI: as a child process, from source or compiled
 * (helpers/binary.ts), with its output captured and a bound on how long it may take.
 */
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compiledCslr, repoRoot } from "./binary.ts";
import { createSelfSignedCertificate, type SelfSigned } from "../../src/election/x509.ts";

export { repoRoot };
export const sourceCli = [process.execPath, join(repoRoot, "src/cli.ts")];

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  /** Added to (or, with `undefined` values, removed from) this process's environment; `replaceEnv` uses it alone. */
  env?: Record<string, string | undefined>;
  replaceEnv?: boolean;
  /** The program and leading words; default: cslr from source. */
  cli?: string[];
  /** Killed (and reported in stderr) after this long; default 60 s. */
  timeoutMs?: number;
}

/** Runs any program with its output captured; killed and reported after the timeout. */
export async function runProcess(argv: string[], options: Omit<RunOptions, "cli">): Promise<CliResult> {
  const base = options.replaceEnv ? {} : process.env;
  const env = Object.fromEntries(
    Object.entries({ ...base, NO_COLOR: "1", ...options.env }).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const proc = Bun.spawn(argv, { cwd: options.cwd, env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, timeoutMs);
  try {
    const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { exitCode, stdout, stderr: timedOut ? `${stderr}\n[killed after ${timeoutMs} ms: ${argv.join(" ")}]` : stderr };
  } finally {
    clearTimeout(timer);
  }
}

export async function runCli(args: string[], options: RunOptions = { cwd: process.cwd() }): Promise<CliResult> {
  return runProcess([...(options.cli ?? sourceCli), ...args], options);
}

/** cslr from source and compiled, for tests that must hold for both. */
export async function cliVariants(): Promise<[name: string, argv: string[]][]> {
  return [
    ["source", sourceCli],
    ["binary", [await compiledCslr()]],
  ];
}

/** Secrets for tests: fixed, recognisable values so a test can look for leaks. */
export const testSecrets = {
  CSLR_CLUSTER_TOKEN: "tok-3f9a1c77e2",
  REDIS_PASSWORD: "redis-8d2e44b0aa",
  POSTGRES_PASSWORD: "pg-51c0e9d7f3",
  MARIMO_TOKEN: "marimo-c4a2b8e611",
  RAY_AUTH_TOKEN: "raytok-9e07d1c2b5a4",
  RAY_REDIS_PASSWORD: "rayredis-6b1f0d93c2",
};

export function dotenvText(secrets: Record<string, string> = testSecrets): string {
  return Object.entries(secrets)
    .map(([k, v]) => `${k}=${v}\n`)
    .join("");
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
  if (files.env !== null) {
    writeFileSync(join(dir, ".env"), files.env ?? dotenvText(), { mode: 0o600 });
    writeElectionCertificate(dir);
  }
  return dir;
}

let electionCertificate: SelfSigned | undefined;

/** The election service's certificate and key, as `cslr init` writes them (one pair per test process). */
export function testElectionCertificate(): SelfSigned {
  electionCertificate ??= createSelfSignedCertificate("cslr election service");
  return electionCertificate;
}

export function writeElectionCertificate(dir: string): void {
  const { cert, key } = testElectionCertificate();
  writeFileSync(join(dir, "election-cert.pem"), cert, { mode: 0o644 });
  writeFileSync(join(dir, "election-key.pem"), key, { mode: 0o600 });
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
