/**
 * The one place cslr starts Compose, on Bun.spawn. Interactive runs inherit the terminal and
 * forward SIGINT/SIGTERM to the child; the child's exit code becomes cslr's. Captured runs
 * return stdout/stderr for cslr to parse (ps --format json, the last log lines).
 */
import { constants } from "node:os";
import { CslrError } from "../errors.ts";
import { log } from "../log.ts";
import { composeArgv, engineProgram, formatCommandLine, quietArgs, type ComposeTarget, type ComposeTool } from "./argv.ts";
import { detectCompose, engineDownMessage, type ProbeResult } from "./detect.ts";

/** What a child gets beyond its argv: variables added to cslr's environment, and text on its stdin. */
export interface ChildInput {
  env?: Record<string, string>;
  /** Written to the child's stdin (else stdin is closed); a secret goes here, never into argv. */
  stdin?: string;
  /** Killed after this long (a registry that does not answer); the result says `timedOut`. */
  timeoutMs?: number;
}

/**
 * The child's environment: process.env as it is now. Bun's spawn without `env` passes the
 * environment cslr started with, so a variable cslr removed (join drops a join token) would
 * still reach compose and win over .env.
 */
function childEnv(extra: Record<string, string> | undefined): Record<string, string | undefined> {
  return { ...process.env, ...extra };
}

/** Runs a program with its output captured; null when the program is not on PATH. */
export async function probeProgram(argv: string[], cwd?: string, input: ChildInput = {}): Promise<ProbeResult | null> {
  const [program, ...rest] = argv;
  if (!program) throw new Error("probeProgram: empty argv");
  const path = Bun.which(program);
  if (!path) return null;
  const stdin = input.stdin === undefined ? "ignore" : new Blob([input.stdin]);
  const proc = Bun.spawn([path, ...rest], { cwd, env: childEnv(input.env), stdin, stdout: "pipe", stderr: "pipe" });
  let timedOut = false;
  const timer =
    input.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          proc.kill("SIGKILL");
        }, input.timeoutMs);
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return timedOut ? { code, stdout, stderr, timedOut } : { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** The shell convention for a child killed by a signal: 128 + its number. */
export function exitCodeOf(exitCode: number | null, signalCode: string | number | null): number {
  if (exitCode !== null) return exitCode;
  const number = typeof signalCode === "number" ? signalCode : signalCode ? constants.signals[signalCode as keyof typeof constants.signals] : undefined;
  return 128 + (number ?? 0);
}

const forwardedSignals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

const eraseLine = "\x1b[2K";

/**
 * Removes ESC[2K (erase line), which `docker compose logs` writes before every line even with
 * --no-color. Stateful: an escape split across two chunks is held back until the next one.
 */
export function eraseLineStripper(): (chunk: string, last?: boolean) => string {
  let held = "";
  return (chunk, last = false) => {
    const text = (held + chunk).replaceAll(eraseLine, "");
    held = "";
    if (last) return text;
    for (let n = Math.min(eraseLine.length - 1, text.length); n > 0; n--) {
      if (eraseLine.startsWith(text.slice(-n))) {
        held = text.slice(-n);
        return text.slice(0, -n);
      }
    }
    return text;
  };
}

/** Copies a child's stdout to ours through `filter`. */
async function pumpFiltered(stream: ReadableStream<Uint8Array>, filter: (chunk: string, last?: boolean) => string): Promise<void> {
  const decoder = new TextDecoder();
  for await (const bytes of stream) process.stdout.write(filter(decoder.decode(bytes, { stream: true })));
  process.stdout.write(filter(decoder.decode(), true));
}

/** `NAME=value` words that set a child's extra variables, for a dry run's pasteable line. */
function envAssignments(env: Record<string, string> | undefined): string[] {
  return Object.entries(env ?? {}).map(([name, value]) => `${name}=${value}`);
}

/**
 * Runs a program on the user's terminal. cslr stays alive until the child ends: a signal sent
 * to cslr (Ctrl-C in `logs -f`, `kill` from a supervisor) is passed on, and the child decides
 * how to stop. Returns the child's exit code.
 */
export async function runInteractive(
  argv: string[],
  cwd?: string,
  env?: Record<string, string>,
  stdoutFilter?: (chunk: string, last?: boolean) => string,
): Promise<number> {
  const [program, ...rest] = argv;
  if (!program) throw new Error("runInteractive: empty argv");
  const path = Bun.which(program);
  if (!path) throw new CslrError(`${program} not found on PATH`);
  const child = Bun.spawn([path, ...rest], { cwd, env: childEnv(env), stdin: "inherit", stdout: stdoutFilter ? "pipe" : "inherit", stderr: "inherit" });
  const pumped = stdoutFilter && child.stdout instanceof ReadableStream ? pumpFiltered(child.stdout, stdoutFilter) : Promise.resolve();
  const forward = (signal: NodeJS.Signals) => () => {
    log.debug(`forwarding ${signal} to ${program} (pid ${child.pid})`);
    child.kill(signal);
  };
  const handlers = forwardedSignals.map((signal) => [signal, forward(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  try {
    await Promise.all([child.exited, pumped]);
    return exitCodeOf(child.exitCode, child.signalCode);
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}

/**
 * A command's result from a child's exit code. Non-zero becomes a CslrError carrying that
 * code, so the code survives however the command was dispatched (citty drops the return
 * values of subcommands) and the user sees which command failed.
 */
export function childExit(code: number, argv: string[]): number {
  if (code === 0) return 0;
  const what = argv.slice(0, 2).join(" ");
  const signal = code > 128 ? Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0] : undefined;
  throw new CslrError(signal ? `${what} stopped by ${signal}` : `${what} exited with code ${code}`, code);
}

export interface ComposeOptions {
  /** Print each command line to stdout instead of running it. */
  dryRun?: boolean;
  /** --quiet: compose prints no progress either (see quietArgs). */
  quiet?: boolean;
}

export interface RunOptions {
  /** false: skip the engine check (the caller knows it answers). */
  checkEngine?: boolean;
  /** Rewrites compose's stdout on its way to ours (see eraseLineStripper). */
  stdoutFilter?: (chunk: string, last?: boolean) => string;
}

/** A Compose found on this machine, pointed at one project. */
export class Compose {
  private engineChecked = false;

  constructor(
    readonly tool: ComposeTool,
    readonly target: ComposeTarget,
    readonly options: ComposeOptions = {},
  ) {}

  /** Finds Compose (or fails with the one-line install hint) and binds it to a target. */
  static async open(target: ComposeTarget, options: ComposeOptions = {}): Promise<Compose> {
    const tool = await detectCompose((argv) => probeProgram(argv));
    log.debug(`using ${tool.kind} ${tool.version}`);
    return new Compose(tool, target, options);
  }

  argv(subcommand: string[]): string[] {
    return composeArgv(this.tool, this.target, subcommand, this.options.quiet ? quietArgs(this.tool) : []);
  }

  /**
   * Fails with one clear line when the container engine does not answer, before compose
   * would print its own longer error.
   */
  async ensureEngine(): Promise<void> {
    if (this.engineChecked || this.options.dryRun) return;
    // The engine's CLI, not compose's program: a standalone docker-compose has no `info`.
    const engine = engineProgram(this.tool);
    const result = await probeProgram([engine, "info", "--format", "{{.ServerVersion}}"]);
    if (!result || result.code !== 0) {
      throw new CslrError(engineDownMessage(this.tool, result ? result.stderr || result.stdout : `${engine} not found`));
    }
    this.engineChecked = true;
  }

  /** Runs on the terminal; returns 0, or throws (via childExit) with compose's exit code. */
  async run(subcommand: string[], opts: RunOptions = {}): Promise<number> {
    return childExit(await this.runRaw(subcommand, opts), [this.tool.kind, subcommand[0] ?? ""]);
  }

  /** Runs on the terminal; returns compose's exit code (0 for a dry run). */
  async runRaw(subcommand: string[], opts: RunOptions = {}): Promise<number> {
    const argv = this.argv(subcommand);
    if (this.options.dryRun) {
      process.stdout.write(`${formatCommandLine([...envAssignments(this.target.env), ...argv])}\n`);
      return 0;
    }
    if (opts.checkEngine !== false) await this.ensureEngine();
    log.debug(`$ ${formatCommandLine(argv)}`);
    return runInteractive(argv, this.target.projectDir, this.target.env, opts.stdoutFilter);
  }

  /** The engine's own CLI (docker, podman) for what compose cannot do; same contract as run(). */
  async runEngine(args: string[]): Promise<number> {
    const argv = [engineProgram(this.tool), ...args];
    if (this.options.dryRun) {
      process.stdout.write(`${formatCommandLine(argv)}\n`);
      return 0;
    }
    await this.ensureEngine();
    log.debug(`$ ${formatCommandLine(argv)}`);
    return childExit(await runInteractive(argv, this.target.projectDir), argv.slice(0, 2));
  }

  /** The engine's own CLI with output captured (never in a dry run's output). */
  async captureEngine(args: string[]): Promise<string> {
    await this.ensureEngine();
    const argv = [engineProgram(this.tool), ...args];
    log.debug(`$ ${formatCommandLine(argv)}`);
    const result = await probeProgram(argv, this.target.projectDir);
    if (!result) throw new CslrError(`${argv[0]} not found on PATH`);
    if (result.code !== 0)
      throw new CslrError(`${formatCommandLine(argv)} exited with ${result.code}: ${result.stderr.trim().split("\n").slice(-3).join(" | ")}`);
    return result.stdout;
  }

  /** Runs with output captured, for cslr to read. Never prints, even in a dry run. */
  async capture(subcommand: string[], input: { stdin?: string; env?: Record<string, string> } = {}): Promise<ProbeResult> {
    await this.ensureEngine();
    const argv = this.argv(subcommand);
    log.debug(`$ ${formatCommandLine(argv)}`);
    const result = await probeProgram(argv, this.target.projectDir, { stdin: input.stdin, env: { ...this.target.env, ...input.env } });
    if (!result) throw new CslrError(`${argv[0]} not found on PATH`);
    return result;
  }

  /** capture(), failing with the command line and compose's stderr on a non-zero exit. */
  async captureOk(subcommand: string[]): Promise<string> {
    const result = await this.capture(subcommand);
    if (result.code !== 0) {
      const detail = result.stderr.trim().split("\n").slice(-3).join(" | ");
      throw new CslrError(`${formatCommandLine(this.argv(subcommand))} exited with ${result.code}: ${detail}`);
    }
    return result.stdout;
  }
}
