/**
 * From the command's path arguments to what compose is pointed at. `up` regenerates
 * `_build/` first; the other commands act on the compose file that is already there, which
 * describes what is running even if config.yaml has changed since.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parse } from "yaml";
import type { Model } from "../config/model.ts";
import { CslrError } from "../errors.ts";
import { generateProject, loadProject, type ProjectPaths } from "../project.ts";
import type { ComposeTarget } from "./argv.ts";

export interface ResolvedProject {
  target: ComposeTarget;
  /** The parsed compose file (published ports, service names). */
  composeDoc: unknown;
  /** Present when config was loaded (always after generate; on request otherwise). */
  model?: Model;
}

function existingEnvFile(path: string): string | undefined {
  return existsSync(path) ? path : undefined;
}

/** The user's compose.override.yaml beside config.yaml, applied after the generated file. */
export const overrideFileName = "compose.override.yaml";

function existingOverride(projectDir: string): string | undefined {
  const path = join(projectDir, overrideFileName);
  return existsSync(path) ? path : undefined;
}

async function readComposeDoc(composeFile: string): Promise<unknown> {
  return parse(await Bun.file(composeFile).text());
}

/** Loads config, renders `_build/` and points compose at it; bad config throws before Docker runs. */
export async function generatedProject(paths: ProjectPaths): Promise<ResolvedProject> {
  const generated = await generateProject(paths);
  return {
    model: generated.model,
    composeDoc: await readComposeDoc(generated.composeFile),
    target: {
      composeFile: generated.composeFile,
      projectName: generated.model.project.name,
      envFile: existingEnvFile(generated.envFile),
      projectDir: generated.projectDir,
      overrideFile: existingOverride(generated.projectDir),
    },
  };
}

/**
 * Points compose at the compose file already in `--out`. The project name is the file's
 * top-level `name:`; the config is loaded only when the caller needs the model.
 */
export async function existingProject(paths: ProjectPaths, opts: { loadModel?: boolean } = {}): Promise<ResolvedProject> {
  const composeFile = resolve(paths.out, "compose.yaml");
  if (!existsSync(composeFile)) {
    throw new CslrError(`no generated compose file at ${composeFile}: run \`cslr up\` (or \`cslr generate\`) first`);
  }
  const composeDoc = await readComposeDoc(composeFile);
  const model = opts.loadModel ? (await loadProject(paths)).model : undefined;
  const fileName = (composeDoc as { name?: unknown } | null)?.name;
  const projectName = typeof fileName === "string" && fileName !== "" ? fileName : model?.project.name;
  if (!projectName) {
    throw new CslrError(`${composeFile} has no top-level name: regenerate it with \`cslr generate\``);
  }
  const projectDir = dirname(resolve(paths.config));
  return {
    model,
    composeDoc,
    target: {
      composeFile,
      projectName,
      envFile: existingEnvFile(join(projectDir, ".env")),
      projectDir,
      overrideFile: existingOverride(projectDir),
    },
  };
}

export function projectPaths(args: { config: string; nodes: string; out: string }): ProjectPaths {
  return { config: args.config, nodes: args.nodes, out: args.out };
}
