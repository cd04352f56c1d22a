/**
 * The generation records: `up` regenerates `_build/` first and acts on that; the other commands
 * act on the generation compose last accepted (`_build/applied/`), which describes what runs
 * even if config.yaml, or a failed `up`, has changed `_build/` since.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import type { ProjectPaths } from "../config/load.ts";
import { writeFilesAtomically } from "../files.ts";

/** After compose accepted `_build/compose.yaml`: it becomes the applied generation (atomic copy). */
export function recordApplied(paths: ProjectPaths): void {
  const mode = statSync(paths.composeFile).mode & 0o777;
  writeFilesAtomically([{ path: paths.appliedComposeFile, content: readFileSync(paths.composeFile), mode }]);
}

/** The file commands on the running stack act on: the applied generation, else the latest. */
export function runningComposeFile(paths: ProjectPaths): string {
  return existsSync(paths.appliedComposeFile) ? paths.appliedComposeFile : paths.composeFile;
}
