/**
 * What a compose command starts from: the project resolved once from its arguments, the
 * compose file it acts on, and a Compose bound to it.
 */
import { existsSync, readFileSync } from "node:fs";
import { loadProject, resolveProject, type ProjectArgs, type ProjectPaths } from "../config/load.ts";
import type { Model } from "../config/model.ts";
import { isQuiet, log } from "../log.ts";
import { generateProject } from "../render/generate.ts";
import type { ComposeTarget } from "../compose/argv.ts";
import { placeholdersFor } from "../compose/placeholders.ts";
import { Compose } from "../compose/runner.ts";
import { composeTarget, readComposeFile, type ComposeDoc } from "../compose/target.ts";
import { runningComposeFile } from "./generation.ts";

export interface SessionArgs extends ProjectArgs {
  "dry-run"?: boolean;
}

export interface Session {
  paths: ProjectPaths;
  target: ComposeTarget;
  /** The compose file compose acts on, parsed (service names, published ports). */
  doc: ComposeDoc;
  /** Present when config was loaded (always after generate; on request otherwise). */
  model?: Model;
  /** The store's copy of cslr the generation mounts (after generate). */
  binary?: string;
  compose: Compose;
}

export interface SessionOptions {
  /** Regenerate `_build/` first (bad config fails here, before Docker is touched). */
  generate?: boolean;
  /** Load config for the model: "required" fails on bad config, "optional" warns and goes on. */
  model?: "required" | "optional";
  /**
   * Which compose file: "running" (default) the applied generation, what runs; "latest" the
   * last generated `_build/compose.yaml` (`up`, which makes it run); or the cluster test's.
   */
  file?: "running" | "latest" | "cluster-test";
  /**
   * For commands that create no container (down, ps, logs, status): placeholders stand in for
   * secrets `.env` does not have, so they work without it (see placeholders.ts).
   */
  secrets?: "placeholders";
}

export async function openSession(args: SessionArgs, opts: SessionOptions = {}): Promise<Session> {
  return sessionAt(resolveProject(args), opts, args["dry-run"]);
}

/** A session on paths already resolved (a command resolves them once). */
export async function sessionAt(paths: ProjectPaths, opts: SessionOptions = {}, dryRun = false): Promise<Session> {
  let model: Model | undefined;
  let binary: string | undefined;
  if (opts.generate) ({ model, cslrBinary: binary } = await generateProject(paths));
  else if (opts.model === "required") model = await loadProject(paths);
  else if (opts.model === "optional") model = await tryLoadModel(paths);
  const file = opts.file === "cluster-test" ? paths.clusterTestFile : opts.generate || opts.file === "latest" ? paths.composeFile : runningComposeFile(paths);
  const { doc, projectName, text } = opts.file === "cluster-test" ? readComposeFile(file, "run `cslr test` (or `cslr generate`) first") : readComposeFile(file);
  const target = composeTarget(paths, projectName, file);
  if (opts.secrets === "placeholders") target.env = secretPlaceholders(paths, target, text);
  const compose = await Compose.open(target, { dryRun, quiet: isQuiet() });
  return { paths, target, doc, model, binary, compose };
}

/** Placeholders for the secrets the compose file (and the user's override) needs that are not set. */
function secretPlaceholders(paths: ProjectPaths, target: ComposeTarget, text: string): Record<string, string> | undefined {
  const texts = [text, ...(target.overrideFile ? [readFileSync(target.overrideFile, "utf8")] : [])];
  const env = placeholdersFor(texts, existsSync(paths.envFile) ? readFileSync(paths.envFile, "utf8") : undefined);
  const names = Object.keys(env);
  if (names.length === 0) return undefined;
  log.debug(`placeholders stand in for ${names.join(", ")} (not in ${paths.envFile}); this command creates no container`);
  return env;
}

async function tryLoadModel(paths: ProjectPaths): Promise<Model | undefined> {
  try {
    return await loadProject(paths);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    log.warn(`config not loaded, using ${runningComposeFile(paths)} as is (${reason})`);
    return undefined;
  }
}
