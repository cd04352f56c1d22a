/**
 * I/O edge of the config: reads config.yaml and nodes.yaml (or the embedded examples when a
 * file is missing), validates, probes the host for GPUs and returns the normalised model.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import exampleConfig from "../../config.example.yaml" with { type: "text" };
import exampleNodes from "../../nodes.yaml" with { type: "text" };
import { UsageError } from "../errors.ts";
import { detectGpuSync } from "../host/gpu.ts";
import { log } from "../log.ts";
import type { ProjectPaths } from "../project.ts";
import { formatDiagnostic, type Diagnostic } from "./diagnostics.ts";
import type { Model } from "./model.ts";
import { normalise, resolveGpuEnabled, rayNodesOf } from "./normalise.ts";
import { configSchema, nodesSchema, type Config, type Nodes } from "./schema.ts";
import { fastParseMapping } from "./fast-yaml.ts";
import {
  duplicatePortProblems,
  positioned,
  publishedHostPorts,
  subnetProblems,
  validateSource,
  whitelistProblems,
  workerPortRangeProblems,
  type Problem,
} from "./validate.ts";

export const embeddedExamples = { config: exampleConfig, nodes: exampleNodes };

/** Thrown with every problem, one line each; exit code 2. */
export class ConfigError extends UsageError {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
    this.name = "ConfigError";
    this.diagnostics = diagnostics;
  }
}

/** How a file is shown in messages: relative to the working directory when inside it. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") ? rel : path;
}

function readOrEmbedded(path: string, embedded: string, what: string): { file: string; text: string } {
  if (existsSync(path)) return { file: displayPath(path), text: readFileSync(path, "utf8") };
  log.info(`${displayPath(path)} not found: using the embedded example ${what} (run \`cslr init\` to write your own)`);
  return { file: `(embedded ${what})`, text: embedded };
}

export interface LoadOptions {
  /** Injected for tests; defaults to probing `nvidia-smi -L` (only when the config asks for auto/true). */
  gpuDetected?: boolean;
}

interface CrossProblems {
  config: Problem[];
  nodes: Problem[];
  gpuDetected: boolean;
}

/** The rules across fields, on values the schemas accepted. The GPU is probed only when asked for. */
function crossFieldProblems(config: Config, nodes: Nodes | undefined, probeGpu: () => boolean): CrossProblems {
  const requested = config.services.ray.gpu.enabled;
  const gpuDetected = requested === false ? false : probeGpu();
  const gpuEnabled = resolveGpuEnabled(requested, gpuDetected);
  const configProblems = [
    ...duplicatePortProblems(publishedHostPorts(config, gpuEnabled)),
    ...subnetProblems(config),
    ...workerPortRangeProblems(config),
  ];
  const enabled = nodes ? rayNodesOf(config, nodes, gpuEnabled).flatMap((n) => (n.name ? [n.name] : [])) : [];
  return { config: configProblems, nodes: nodes ? whitelistProblems(nodes, enabled) : [], gpuDetected };
}

/** The common case, without the yaml package: plain YAML that is valid as it stands. */
function validModelFast(configText: string, nodesText: string, probeGpu: () => boolean): Model | undefined {
  const configData = fastParseMapping(configText);
  const nodesData = configData && fastParseMapping(nodesText);
  if (!configData || !nodesData) return undefined;
  const config = configSchema.safeParse(configData);
  const nodes = nodesSchema.safeParse(nodesData);
  if (!config.success || !nodes.success) return undefined;
  const problems = crossFieldProblems(config.data, nodes.data, probeGpu);
  if (problems.config.length > 0 || problems.nodes.length > 0) return undefined;
  return normalise(config.data, nodes.data, { gpuDetected: problems.gpuDetected });
}

/** Pure core of loading: texts in, model or every diagnostic (with its position) out. */
export function modelFromTexts(
  configFile: { file: string; text: string },
  nodesFile: { file: string; text: string },
  probeGpu: () => boolean,
): Model {
  let probed: boolean | undefined;
  const probeOnce = () => (probed ??= probeGpu());
  const fast = validModelFast(configFile.text, nodesFile.text, probeOnce);
  if (fast) return fast;

  const config = validateSource(configSchema, configFile.file, configFile.text);
  const nodes = validateSource(nodesSchema, nodesFile.file, nodesFile.text);
  const diagnostics: Diagnostic[] = [
    ...(config.ok ? [] : config.diagnostics),
    ...(nodes.ok ? [] : nodes.diagnostics),
  ];
  let gpuDetected = false;
  if (config.ok) {
    const problems = crossFieldProblems(config.value, nodes.ok ? nodes.value : undefined, probeOnce);
    gpuDetected = problems.gpuDetected;
    diagnostics.push(...positioned(config.source, problems.config));
    if (nodes.ok) diagnostics.push(...positioned(nodes.source, problems.nodes));
  }
  if (diagnostics.length > 0 || !config.ok || !nodes.ok) throw new ConfigError(sortDiagnostics(diagnostics));
  return normalise(config.value, nodes.value, { gpuDetected });
}

function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
}

export async function loadProjectImpl(
  paths: ProjectPaths,
  options: LoadOptions = {},
): Promise<{ model: Model; projectDir: string; envFile: string }> {
  const configPath = resolve(paths.config);
  const nodesPath = resolve(paths.nodes);
  const configFile = readOrEmbedded(configPath, embeddedExamples.config, "config.yaml");
  const nodesFile = readOrEmbedded(nodesPath, embeddedExamples.nodes, "nodes.yaml");
  const model = modelFromTexts(configFile, nodesFile, () => options.gpuDetected ?? detectGpuSync());
  for (const warning of model.warnings) log.warn(warning);
  const projectDir = dirname(configPath);
  return { model, projectDir, envFile: join(projectDir, ".env") };
}
