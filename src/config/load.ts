/**
 * I/O edge of the config: reads config.yaml and nodes.yaml (or the embedded examples when a
 * file is missing), validates, probes the host for GPUs and returns the normalised model.
 */
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism, hostname as osHostname } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import exampleConfig from "../../config.example.yaml" with { type: "text" };
import exampleNodes from "../../nodes.yaml" with { type: "text" };
import { detectGpuSync } from "../host/gpu.ts";
import { UsageError } from "../errors.ts";
import { log } from "../log.ts";
import { ConfigError, dottedPath, type Diagnostic } from "./config-error.ts";
import type { Model } from "./model.ts";
import { normalise, resolveGpuEnabled, rayNodesOf } from "./normalise.ts";
import { configSchema, nodesSchema, type Config, type Nodes } from "./schema.ts";
import { fastParseMapping } from "./fast-yaml.ts";
import {
  bindAddressProblems,
  cpuLimitProblems,
  duplicatePortProblems,
  electionPinProblems,
  gcsStoreProblems,
  hostNetworkUrlProblems,
  hostPortBlockProblems,
  hostWorkerPortProblems,
  multiHostBridgeProblems,
  publishedHostPorts,
  rayOwnPortProblems,
  subnetProblems,
  whitelistProblems,
  workerPortRangeProblems,
  type Problem,
} from "./rules.ts";

export const embeddedExamples = { config: exampleConfig, nodes: exampleNodes };

/** How a file is shown in messages: relative to the working directory when inside it. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") ? rel : path;
}

/**
 * Reads a project file. A missing file the user named is an error (exit 2, with the path): a
 * typo must never deploy the example. Only a default path that is absent falls back to the
 * embedded example, and says so.
 */
function readOrEmbedded(path: string, explicit: boolean, embedded: string, what: string): { file: string; text: string } {
  if (explicit) return { file: displayPath(path), text: readExplicit(path, what) };
  if (existsSync(path)) return { file: displayPath(path), text: checkedText(path, readFileSync(path, "utf8")) };
  log.info(`${displayPath(path)} not found: using the embedded example ${what} (run \`cslr init\` to write your own)`);
  return { file: `(embedded ${what})`, text: embedded };
}

/** A config is a few KiB; anything past this is a mistake (or an attack), refused before parsing. */
const maxConfigBytes = 1024 * 1024;

function checkedText(path: string, text: string): string {
  if (text.length > maxConfigBytes) {
    throw new ConfigError([
      {
        file: displayPath(path),
        line: 1,
        col: 1,
        path: "(document)",
        message: `file of ${text.length} bytes; expected a config under ${maxConfigBytes} bytes`,
      },
    ]);
  }
  return text;
}

function readExplicit(path: string, what: string): string {
  try {
    return checkedText(path, readFileSync(path, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "does not exist (or is a dangling link)"
        : code === "ELOOP"
          ? "is a link that loops"
          : code === "EISDIR"
            ? "is a folder"
            : `cannot be read (${code ?? (error as Error).message})`;
    throw new UsageError(`${displayPath(path)}: ${why}; expected the ${what} you named with --${what === "config.yaml" ? "config" : "nodes"}`);
  }
}

export interface LoadOptions {
  /** Injected for tests; defaults to probing `nvidia-smi -L` (only when the config asks for auto/true). */
  gpuDetected?: boolean;
  /** Injected for tests; defaults to this machine's CPUs (what Docker's `cpus` limit is checked against). */
  hostCpus?: number;
}

interface CrossProblems {
  config: Problem[];
  nodes: Problem[];
  gpuDetected: boolean;
}

/** The rules across fields, on values the schemas accepted. The GPU is probed only when asked for. */
function crossFieldProblems(config: Config, nodes: Nodes | undefined, probeGpu: () => boolean, hostname: string, hostCpus: number): CrossProblems {
  const requested = config.services.ray.gpu.enabled;
  const gpuDetected = requested === false ? false : probeGpu();
  const gpuEnabled = resolveGpuEnabled(requested, gpuDetected);
  const hostPorts = publishedHostPorts(config, gpuEnabled);
  const configProblems = [
    ...duplicatePortProblems(hostPorts),
    ...rayOwnPortProblems(config, gpuEnabled, hostPorts),
    ...subnetProblems(config),
    ...workerPortRangeProblems(config),
    ...hostPortBlockProblems(config, gpuEnabled),
    ...hostWorkerPortProblems(config, gpuEnabled, hostCpus),
    ...cpuLimitProblems(config, gpuEnabled, hostCpus),
    ...bindAddressProblems(config),
    ...gcsStoreProblems(config),
    ...(nodes ? multiHostBridgeProblems(config, nodes) : []),
  ];
  const enabled = nodes
    ? rayNodesOf(config, nodes, gpuEnabled, hostname)
        .filter((n) => n.ports)
        .map((n) => n.name)
    : [];
  return {
    config: configProblems,
    nodes: nodes ? [...whitelistProblems(config, nodes, enabled), ...hostNetworkUrlProblems(config, nodes), ...electionPinProblems(config, nodes)] : [],
    gpuDetected,
  };
}

/** The common case, without the yaml package: plain YAML that is valid as it stands. */
function validModelFast(configText: string, nodesText: string, probeGpu: () => boolean, hostname: string, hostCpus: number): Model | undefined {
  const configData = fastParseMapping(configText);
  const nodesData = configData && fastParseMapping(nodesText);
  if (!configData || !nodesData) return undefined;
  const config = configSchema.safeParse(configData);
  const nodes = nodesSchema.safeParse(nodesData);
  if (!config.success || !nodes.success) return undefined;
  const problems = crossFieldProblems(config.data, nodes.data, probeGpu, hostname, hostCpus);
  if (problems.config.length > 0 || problems.nodes.length > 0) return undefined;
  return normalise(config.data, nodes.data, { gpuDetected: problems.gpuDetected, hostname, hostCpus });
}

/**
 * Pure core of loading: texts in, model or every diagnostic (with its position) out. The
 * `yaml` package (positions) is loaded only when the fast path cannot decide.
 */
export async function modelFromTexts(
  configFile: { file: string; text: string },
  nodesFile: { file: string; text: string },
  probeGpu: () => boolean,
  hostname: string = osHostname(),
  hostCpus: number = availableParallelism(),
): Promise<Model> {
  let probed: boolean | undefined;
  const probeOnce = () => (probed ??= probeGpu());
  const fast = validModelFast(configFile.text, nodesFile.text, probeOnce, hostname, hostCpus);
  if (fast) return fast;

  const { positioned, validateSource } = await import("./validate.ts");
  const config = validateSource(configSchema, configFile.file, configFile.text);
  const nodes = validateSource(nodesSchema, nodesFile.file, nodesFile.text);
  const diagnostics: Diagnostic[] = [...(config.ok ? [] : config.diagnostics), ...(nodes.ok ? [] : nodes.diagnostics)];
  let gpuDetected = false;
  if (config.ok) {
    const problems = crossFieldProblems(config.value, nodes.ok ? nodes.value : undefined, probeOnce, hostname, hostCpus);
    gpuDetected = problems.gpuDetected;
    diagnostics.push(...positioned(config.source, problems.config));
    if (nodes.ok) diagnostics.push(...positioned(nodes.source, problems.nodes));
  }
  if (diagnostics.length > 0 || !config.ok || !nodes.ok) throw new ConfigError(sortDiagnostics(diagnostics));
  return normalise(config.value, nodes.value, { gpuDetected, hostname, hostCpus });
}

function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  const byPlace = (a: Diagnostic, b: Diagnostic) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col;
  return [...list.filter((d) => !d.summary).sort(byPlace), ...list.filter((d) => d.summary)];
}

/** What a command says about where the project is (`--config`, `--nodes`, `--out`; all optional). */
export interface ProjectArgs {
  config?: string;
  nodes?: string;
  out?: string;
}

/**
 * Where a project's files are, resolved once per command. Everything follows the config
 * file's folder: nodes.yaml, `.env`, `_build/` and compose.override.yaml sit beside it unless
 * named, so `cslr up --config lab/config.yaml` works from any directory.
 */
export interface ProjectPaths {
  /** Absolute path of config.yaml. */
  config: string;
  /** Absolute path of nodes.yaml. */
  nodes: string;
  /** True when the user named the file (a missing one is then an error, not the embedded example). */
  explicit: { config: boolean; nodes: boolean };
  /** The config's folder: compose runs here, and relative paths in config.yaml start here. */
  dir: string;
  /** `.env` beside config.yaml: the secrets. */
  envFile: string;
  /** The election service's certificate (public) and key (secret, 0600) beside .env; `cslr init` makes them. */
  tlsCert: string;
  tlsKey: string;
  /** The user's `compose.override.yaml` beside config.yaml, applied after the generated file. */
  overrideFile: string;
  /** The output folder, `_build/` beside config.yaml by default. */
  out: string;
  composeFile: string;
  clusterTestFile: string;
  /**
   * `_build/applied/compose.yaml`: the generation compose last accepted (`cslr up` copies it
   * there once compose succeeded). Commands on the running stack act on it, so a failed `up`
   * of a changed config (a renamed project, say) does not point them at something that never ran.
   */
  appliedComposeFile: string;
}

/**
 * The folder of the project a command works on: like `docker compose` with its compose file,
 * the nearest of the working directory and its parents that holds config.yaml and nodes.yaml
 * (both: a stray config.yaml of another program higher up is not a cslr project). The working
 * directory itself when none does (the embedded examples then stand in).
 */
export function findProjectDir(cwd: string): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "config.yaml")) && existsSync(join(dir, "nodes.yaml"))) return dir;
    if (dirname(dir) === dir) return resolve(cwd);
  }
}

/**
 * Where the project's files are. Without --config the project is looked for upwards from `cwd`
 * (`search: false` keeps it at `cwd`: `cslr join` writes a new project there).
 */
export function resolveProject(args: ProjectArgs, cwd = process.cwd(), options: { search?: boolean } = {}): ProjectPaths {
  const config = args.config !== undefined ? resolve(cwd, args.config) : join(options.search === false ? cwd : findProjectDir(cwd), "config.yaml");
  const dir = dirname(config);
  const out = args.out !== undefined ? resolve(cwd, args.out) : join(dir, "_build");
  return {
    config,
    nodes: args.nodes !== undefined ? resolve(cwd, args.nodes) : join(dir, "nodes.yaml"),
    explicit: { config: args.config !== undefined, nodes: args.nodes !== undefined },
    dir,
    envFile: join(dir, ".env"),
    tlsCert: join(dir, "election-cert.pem"),
    tlsKey: join(dir, "election-key.pem"),
    overrideFile: join(dir, "compose.override.yaml"),
    out,
    composeFile: join(out, "compose.yaml"),
    clusterTestFile: join(out, "cluster-test.compose.yaml"),
    appliedComposeFile: join(out, "applied", "compose.yaml"),
  };
}

/**
 * Problems found beyond the files (against the engine's networks, say) as a ConfigError
 * positioned in config.yaml like every other problem: the line to edit, exit 2.
 */
export async function configProblemError(paths: ProjectPaths, problems: Problem[]): Promise<ConfigError> {
  const present = existsSync(paths.config);
  const file = present ? displayPath(paths.config) : "config.yaml";
  const { parseYamlSource, positioned } = await import("./validate.ts");
  const { source } = parseYamlSource(file, present ? readFileSync(paths.config, "utf8") : "");
  if (source) return new ConfigError(positioned(source, problems));
  return new ConfigError(problems.map((p) => ({ file, line: 1, col: 1, path: dottedPath(p.path), message: p.message })));
}

/** Loads and validates config + nodes; throws ConfigError (exit 2) listing every problem. */
export async function loadProject(paths: ProjectPaths, options: LoadOptions = {}): Promise<Model> {
  const configFile = readOrEmbedded(paths.config, paths.explicit.config, embeddedExamples.config, "config.yaml");
  const nodesFile = readOrEmbedded(paths.nodes, paths.explicit.nodes, embeddedExamples.nodes, "nodes.yaml");
  const model = await modelFromTexts(configFile, nodesFile, () => options.gpuDetected ?? detectGpuSync(), undefined, options.hostCpus);
  for (const warning of model.warnings) log.warn(warning);
  return model;
}
