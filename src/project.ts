/**
 * The one call every command uses to go from files to a model and a fresh `_build/`.
 * (Contract for the lifecycle commands; filled in by the config/render modules.)
 */
import type { Model } from "./config/model.ts";

export interface ProjectPaths {
  /** config.yaml; when missing, the embedded example is used (announced in one line). */
  config: string;
  nodes: string;
  /** Output folder, `_build` by default. */
  out: string;
}

export interface GeneratedProject {
  model: Model;
  /** Absolute path of `_build/compose.yaml`. */
  composeFile: string;
  /** Absolute path of `_build/cluster-test.compose.yaml`. */
  clusterTestFile: string;
  /** Absolute path of the `.env` file beside config.yaml (holds the secrets). */
  envFile: string;
  /** Absolute folder commands run compose from (the config's folder). */
  projectDir: string;
}

/** Loads and validates config + nodes; throws UsageError (exit 2) listing every problem. */
export async function loadProject(paths: ProjectPaths): Promise<{ model: Model; projectDir: string; envFile: string }> {
  const { loadProjectImpl } = await import("./config/load.ts");
  return loadProjectImpl(paths);
}

/** loadProject, then renders and atomically writes `_build/`; `_build/` is untouched on failure. */
export async function generateProject(paths: ProjectPaths): Promise<GeneratedProject> {
  const { generateProjectImpl } = await import("./render/generate.ts");
  return generateProjectImpl(paths);
}
