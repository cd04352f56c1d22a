/**
 * Every `docker compose` command line cslr runs, built as pure functions (no I/O), so the
 * whole table of flags is tested without Docker. The runner (runner.ts) only executes them.
 */
import { UsageError } from "../errors.ts";

/** A single-quoted POSIX shell word: nothing inside is expanded (for --dry-run lines). */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Which Compose implementation was found, and how to invoke it. */
export interface ComposeTool {
  kind: "docker compose" | "docker-compose" | "podman compose";
  /** The program and its leading words: ["docker", "compose"], ["docker-compose"], ... */
  command: string[];
  /** The version it reported, like "2.26.1". */
  version: string;
}

/** What every compose command is pointed at, so cslr works from any subfolder. */
export interface ComposeTarget {
  /** Absolute path of the generated `_build/compose.yaml`. */
  composeFile: string;
  projectName: string;
  /** Absolute path of `.env`; undefined when it does not exist (compose would refuse it). */
  envFile?: string;
  /** Folder compose runs in (the config's folder). */
  projectDir: string;
  /** `compose.override.yaml` beside config.yaml, when present: the user's own additions, applied last. */
  overrideFile?: string;
  /**
   * Variables added to compose's environment: placeholders for secrets a command that creates
   * nothing does not use (compose interpolates every `${VAR:?}` of the file for any command).
   */
  env?: Record<string, string>;
}

/** The flags that pin file, project and env file; they come before the subcommand. */
export function targetArgs(target: ComposeTarget): string[] {
  const args = ["-f", target.composeFile];
  if (target.overrideFile) args.push("-f", target.overrideFile);
  args.push("-p", target.projectName);
  if (target.envFile) args.push("--env-file", target.envFile);
  return args;
}

/** The complete argv: program, target flags, subcommand and its arguments. */
export function composeArgv(tool: ComposeTool, target: ComposeTarget, subcommand: string[]): string[] {
  return [...tool.command, ...targetArgs(target), ...subcommand];
}

export interface UpOptions {
  detach?: boolean;
  build?: boolean;
  /** Recreate containers even if their configuration is unchanged (the cluster test starts fresh). */
  forceRecreate?: boolean;
  removeOrphans?: boolean;
  services?: string[];
}

export function upArgs(opts: UpOptions = {}): string[] {
  const args = ["up"];
  if (opts.detach) args.push("--detach");
  if (opts.build) args.push("--build");
  if (opts.forceRecreate) args.push("--force-recreate");
  if (opts.removeOrphans) args.push("--remove-orphans");
  return [...args, ...(opts.services ?? [])];
}

export interface DownOptions {
  volumes?: boolean;
  removeOrphans?: boolean;
  /** Seconds each container gets to stop before SIGKILL (compose's -t/--timeout). */
  timeoutSeconds?: number;
}

/** `-t/--timeout SECONDS` as compose takes it: a whole number of seconds, 0 or more. */
export function parseStopTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,5}$/.test(text.trim())) throw new UsageError(`--timeout ${JSON.stringify(text)}: expected whole seconds, like --timeout 10`);
  return Number(text.trim());
}

export function downArgs(opts: DownOptions = {}): string[] {
  const args = ["down"];
  if (opts.volumes) args.push("--volumes");
  if (opts.timeoutSeconds !== undefined) args.push("--timeout", String(opts.timeoutSeconds));
  if (opts.removeOrphans) args.push("--remove-orphans");
  return args;
}

export interface PsOptions {
  /** Machine-readable rows (`--format json`). */
  json?: boolean;
  /** Include stopped containers, so an exited one is visible. */
  all?: boolean;
  services?: string[];
}

export function psArgs(opts: PsOptions = {}): string[] {
  const args = ["ps"];
  if (opts.all) args.push("--all");
  if (opts.json) args.push("--format", "json");
  return [...args, ...(opts.services ?? [])];
}

export interface LogsOptions {
  follow?: boolean;
  /** Lines from the end of each service's log; undefined means all. */
  tail?: number;
  services?: string[];
  /** No colours, for logs captured into cslr's own error output. */
  noColor?: boolean;
}

export function logsArgs(opts: LogsOptions = {}): string[] {
  const args = ["logs"];
  if (opts.follow) args.push("--follow");
  if (opts.tail !== undefined) args.push("--tail", String(opts.tail));
  if (opts.noColor) args.push("--no-color");
  return [...args, ...(opts.services ?? [])];
}

export interface ExecOptions {
  service: string;
  command: string[];
  /** Allocate a TTY; off when stdin is not a terminal (`-T`), as in scripts and CI. */
  tty: boolean;
}

export function execArgs(opts: ExecOptions): string[] {
  return ["exec", ...(opts.tty ? [] : ["-T"]), opts.service, ...opts.command];
}

/** A command line as a user could paste it into a POSIX shell (for --dry-run). */
export function formatCommandLine(argv: string[]): string {
  return argv.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : shellQuote(word))).join(" ");
}

/**
 * `cslr exec [OPTIONS] SERVICE CMD...`: options before SERVICE are cslr's, everything from
 * SERVICE on is passed through untouched (so `cslr exec ray-cpu ray status --verbose` works).
 * `valueFlags` are cslr's options that take a separate value (`--config FILE`).
 */
export function splitExecArgs(rawArgs: string[], valueFlags: string[]): { service?: string; command: string[]; options: string[] } {
  const options: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (arg === "--") return { service: rawArgs[i + 1], command: rawArgs.slice(i + 2), options };
    if (!arg.startsWith("-")) return { service: arg, command: rawArgs.slice(i + 1), options };
    options.push(arg);
    if (valueFlags.includes(arg.replace(/^--?/, "")) && i + 1 < rawArgs.length) options.push(rawArgs[++i]!);
  }
  return { command: [], options };
}

/** `cslr compose -- ARGS...`: the words after the first `--`, or all positionals when there is none. */
export function passthroughArgs(rawArgs: string[], positionals: string[]): string[] {
  const dashes = rawArgs.indexOf("--");
  return dashes >= 0 ? rawArgs.slice(dashes + 1) : positionals;
}

/** The value of `--name VALUE` or `--name=VALUE` among options (last one wins). */
export function optionValue(options: string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < options.length; i++) {
    const arg = options[i]!;
    if (arg === `--${name}`) value = options[i + 1];
    else if (arg.startsWith(`--${name}=`)) value = arg.slice(name.length + 3);
  }
  return value;
}
