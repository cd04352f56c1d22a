/**
 * What compose is pointed at: a generated file, the project name, `.env` and the user's
 * compose.override.yaml. Which generation a command acts on is src/stack/generation.ts's.
 */
import { existsSync, readFileSync } from "node:fs";
import type { ProjectPaths } from "../config/load.ts";
import { CslrError, UsageError } from "../errors.ts";
import type { ComposeTarget } from "./argv.ts";

/** The parts of a generated compose file cslr reads back. */
export interface ComposeDoc {
  name?: unknown;
  services?: Record<string, { ports?: unknown[]; environment?: Record<string, unknown>; network_mode?: unknown } | null>;
  networks?: Record<string, { ipam?: { config?: ({ subnet?: unknown } | null)[] } } | null>;
}

/** Points compose at `file` (default: `_build/compose.yaml`); the override applies to the main stack only, not the cluster test's. */
export function composeTarget(paths: ProjectPaths, projectName: string, file = paths.composeFile): ComposeTarget {
  const main = file !== paths.clusterTestFile;
  return {
    composeFile: file,
    projectName,
    envFile: existsSync(paths.envFile) ? paths.envFile : undefined,
    projectDir: paths.dir,
    overrideFile: main && existsSync(paths.overrideFile) ? paths.overrideFile : undefined,
  };
}

/** Reads a generated compose file; its top-level `name:` is the project it belongs to. */
export function readComposeFile(
  file: string,
  howToCreate = "run `cslr up` (or `cslr generate`) first",
): { doc: ComposeDoc; projectName: string; text: string } {
  if (!existsSync(file)) throw new CslrError(`no generated compose file at ${file}: ${howToCreate}`);
  let doc: ComposeDoc | null;
  const text = readFileSync(file, "utf8");
  try {
    doc = Bun.YAML.parse(text) as ComposeDoc | null;
  } catch (error) {
    throw new CslrError(`${file} is not valid YAML (${(error as Error).message.split("\n")[0]}): regenerate it with \`cslr generate\``);
  }
  if (!doc || typeof doc !== "object" || typeof doc.name !== "string" || doc.name === "") {
    throw new CslrError(`${file} has no top-level name: regenerate it with \`cslr generate\``);
  }
  return { doc, projectName: doc.name, text };
}

export function serviceNames(doc: ComposeDoc): string[] {
  return Object.keys(doc.services ?? {});
}

/** Services named on the command line must be in the compose file: exit 2 naming those that are. */
export function checkServices(doc: ComposeDoc, file: string, services: readonly string[]): void {
  const all = serviceNames(doc);
  const unknown = services.filter((s) => !all.includes(s));
  if (unknown.length > 0) throw new UsageError(`no service ${unknown.join(", ")} in ${file}; expected one of: ${all.join(", ")}`);
}
