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
import { configSchema, nodesSchema } from "./schema.ts";
import {
  duplicatePortDiagnostics,
  publishedHostPorts,
  subnetDiagnostics,
  validateSource,
  whitelistDiagnostics,
  workerPortRangeDiagnostics,
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

/** Pure core of loading: texts in, model or every diagnostic out. */
export function modelFromTexts(
  configFile: { file: string; text: string },
  nodesFile: { file: string; text: string },
  probeGpu: () => boolean,
): Model {
  const config = validateSource(configSchema, configFile.file, configFile.text);
  const nodes = validateSource(nodesSchema, nodesFile.file, nodesFile.text);
  const diagnostics: Diagnostic[] = [
    ...(config.ok ? [] : config.diagnostics),
    ...(nodes.ok ? [] : nodes.diagnostics),
  ];
  let gpuDetected = false;
  if (config.ok) {
    const requested = config.value.services.ray.gpu.enabled;
    gpuDetected = requested === false ? false : probeGpu();
    const gpuEnabled = resolveGpuEnabled(requested, gpuDetected);
    diagnostics.push(...duplicatePortDiagnostics(config.source, publishedHostPorts(config.value, gpuEnabled)));
    diagnostics.push(...subnetDiagnostics(config.source, config.value));
    diagnostics.push(...workerPortRangeDiagnostics(config.source, config.value));
    if (nodes.ok) {
      const enabled = rayNodesOf(config.value, nodes.value, gpuEnabled).flatMap((n) => (n.name ? [n.name] : []));
      diagnostics.push(...whitelistDiagnostics(nodes.source, nodes.value, enabled));
    }
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
