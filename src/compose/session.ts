/**
 * What a compose command starts from: the resolved project and a Compose bound to it.
 */
import { log } from "../log.ts";
import { loadProject } from "../project.ts";
import { Compose } from "./runner.ts";
import { existingProject, generatedProject, projectPaths, type ResolvedProject } from "./target.ts";

export interface SessionArgs {
  config: string;
  nodes: string;
  out: string;
  "dry-run"?: boolean;
}

export interface Session {
  project: ResolvedProject;
  compose: Compose;
}

export interface SessionOptions {
  /** Regenerate `_build/` first (bad config fails here, before Docker is touched). */
  generate?: boolean;
  /** Load config for the model: "required" fails on bad config, "optional" warns and goes on. */
  model?: "required" | "optional";
}

export async function openSession(args: SessionArgs, opts: SessionOptions = {}): Promise<Session> {
  const paths = projectPaths(args);
  let project: ResolvedProject;
  if (opts.generate) project = await generatedProject(paths);
  else {
    project = await existingProject(paths, { loadModel: opts.model === "required" });
    if (opts.model === "optional") project.model = await tryLoadModel(paths);
  }
  const compose = await Compose.open(project.target, { dryRun: args["dry-run"] });
  return { project, compose };
}

async function tryLoadModel(paths: ReturnType<typeof projectPaths>) {
  try {
    return (await loadProject(paths)).model;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    log.warn(`config not loaded, using ${paths.out}/compose.yaml as is (${reason})`);
    return undefined;
  }
}
