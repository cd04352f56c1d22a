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

/** The complete argv: program, target flags, global flags, subcommand and its arguments. */
export function composeArgv(tool: ComposeTool, target: ComposeTarget, subcommand: string[], globals: string[] = []): string[] {
  return [...tool.command, ...targetArgs(target), ...globals, ...subcommand];
}

/** Compose's version as numbers; 0.0 when it cannot be read. */
function versionOf(tool: ComposeTool): [major: number, minor: number] {
  const [major = 0, minor = 0] = tool.version.split(/[.-]/).map((part) => Number.parseInt(part, 10) || 0);
  return [major, minor];
}

function atLeast(tool: ComposeTool, major: number, minor: number): boolean {
  const [a, b] = versionOf(tool);
  return a > major || (a === major && b >= minor);
}

/**
 * cslr's --quiet for compose: `--progress quiet` (a global flag since Compose 2.19.0) drops the
 * "Container … Started" lines and keeps errors and attached logs. Older Composes and podman
 * compose have no such flag, and print their progress as before.
 */
export function quietArgs(tool: ComposeTool): string[] {
  return tool.kind !== "podman compose" && atLeast(tool, 2, 19) ? ["--progress", "quiet"] : [];
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
  args.push(...timeoutArgs(opts.timeoutSeconds));
  if (opts.removeOrphans) args.push("--remove-orphans");
  return args;
}

/** `start`, `stop` and `restart` act on existing containers; no services means all of them. */
export interface LifecycleOptions {
  services?: string[];
  /** Seconds each container gets to stop before SIGKILL (stop and restart: compose's -t/--timeout). */
  timeoutSeconds?: number;
}

export function startArgs(opts: Omit<LifecycleOptions, "timeoutSeconds"> = {}): string[] {
  return ["start", ...(opts.services ?? [])];
}

export function stopArgs(opts: LifecycleOptions = {}): string[] {
  return ["stop", ...timeoutArgs(opts.timeoutSeconds), ...(opts.services ?? [])];
}

export function restartArgs(opts: LifecycleOptions = {}): string[] {
  return ["restart", ...timeoutArgs(opts.timeoutSeconds), ...(opts.services ?? [])];
}

function timeoutArgs(seconds: number | undefined): string[] {
  return seconds === undefined ? [] : ["--timeout", String(seconds)];
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
  /** Only lines after / before this time, as compose takes it (42m, 2026-01-02T13:23:37Z). */
  since?: string;
  until?: string;
  timestamps?: boolean;
  services?: string[];
  /** One replica of the one service named (Compose >= 2.24; see composeLogsHasIndex). */
  index?: number;
  /** No colours, for logs captured into cslr's own error output. */
  noColor?: boolean;
}

export function logsArgs(opts: LogsOptions = {}): string[] {
  const args = ["logs"];
  if (opts.follow) args.push("--follow");
  if (opts.index !== undefined) args.push("--index", String(opts.index));
  if (opts.tail !== undefined) args.push("--tail", String(opts.tail));
  if (opts.since !== undefined) args.push("--since", opts.since);
  if (opts.until !== undefined) args.push("--until", opts.until);
  if (opts.timestamps) args.push("--timestamps");
  if (opts.noColor) args.push("--no-color");
  return [...args, ...(opts.services ?? [])];
}

/**
 * `--since`/`--until` as Docker reads them: a Go duration (45s, 1h30m), a Unix time
 * (1767225600), or an RFC 3339 date or time (2026-01-02, 2026-01-02T13:23:37Z). Checked here so
 * a typo is exit 2 before compose runs.
 */
export function parseLogTime(flag: "since" | "until", text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const duration = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
  const unix = /^\d+(\.\d{1,9})?$/;
  const date = /^\d{4}-\d\d-\d\d(T\d\d(:\d\d(:\d\d(\.\d{1,9})?)?)?(Z|[+-]\d\d:\d\d)?)?$/;
  if (![duration, unix, date].some((re) => re.test(text))) {
    throw new UsageError(`--${flag} ${JSON.stringify(text)}: expected a duration like 45s or 2h, or a time like 2026-01-02T13:23:37Z`);
  }
  return text;
}

export interface ExecOptions {
  service: string;
  command: string[];
  /** Allocate a TTY; off when stdin is not a terminal (`-T`), as in scripts and CI. */
  tty: boolean;
  /** Which replica of the service (compose's --index, from 1). */
  index?: number;
}

export function execArgs(opts: ExecOptions): string[] {
  const index = opts.index === undefined ? [] : ["--index", String(opts.index)];
  return ["exec", ...(opts.tty ? [] : ["-T"]), ...index, opts.service, ...opts.command];
}

/** `--index N`: a replica's number as compose counts them, from 1 (compose reads 0 as "all"). */
export function parseReplicaIndex(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,3}$/.test(text.trim())) throw new UsageError(`--index ${JSON.stringify(text)}: expected a replica number from 1, like --index 2`);
  return Number(text.trim());
}

/** The container engine's own CLI beside a compose, for what compose cannot do itself. */
export function engineProgram(tool: ComposeTool): string {
  return tool.kind === "podman compose" ? "podman" : "docker";
}

/** `logs --index` came with Compose 2.24.0; older ones (and podman compose) reject the flag. */
export function composeLogsHasIndex(tool: ComposeTool): boolean {
  return tool.kind !== "podman compose" && atLeast(tool, 2, 24);
}

/** Compose's labels on a service's replicas, for finding one without compose (`docker ps`). */
export const replicaNumberLabel = "com.docker.compose.container-number";

function serviceFilters(projectName: string, service: string): string[] {
  return [
    "--filter",
    `label=com.docker.compose.project=${projectName}`,
    "--filter",
    `label=com.docker.compose.service=${service}`,
    // One-off `compose run` containers carry no replica number of their own.
    "--filter",
    "label=com.docker.compose.oneoff=False",
  ];
}

/** `docker ps` printing the ID of replica `index` of a service (nothing when there is none). */
export function replicaLookupArgs(projectName: string, service: string, index: number): string[] {
  return ["ps", "--all", "--quiet", "--no-trunc", ...serviceFilters(projectName, service), "--filter", `label=${replicaNumberLabel}=${index}`];
}

/** `docker ps` listing the replicas of one service of a project as "NUMBER ID" lines. */
export function replicaListArgs(projectName: string, service: string): string[] {
  return ["ps", "--all", "--no-trunc", ...serviceFilters(projectName, service), "--format", `{{.Label "${replicaNumberLabel}"}} {{.ID}}`];
}

/** Replica number → container ID, from replicaListArgs' output; lines it cannot read are skipped. */
export function parseReplicaList(output: string): Map<number, string> {
  const replicas = new Map<number, string>();
  for (const line of output.split("\n")) {
    const match = /^\s*(\d+)\s+([0-9a-f]{12,64})\s*$/.exec(line);
    if (match) replicas.set(Number(match[1]), match[2]!);
  }
  return replicas;
}

/** `docker logs` of one container, with the options `cslr logs` shares with it. */
export function containerLogsArgs(container: string, opts: Omit<LogsOptions, "services" | "noColor"> = {}): string[] {
  const args = ["logs"];
  if (opts.follow) args.push("--follow");
  if (opts.tail !== undefined) args.push("--tail", String(opts.tail));
  if (opts.since !== undefined) args.push("--since", opts.since);
  if (opts.until !== undefined) args.push("--until", opts.until);
  if (opts.timestamps) args.push("--timestamps");
  return [...args, container];
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
