/**
 * `cslr __services` (hidden): the service names of the project here, one a line, for the
 * completion scripts. Reads `_build/compose.yaml` only (no Docker, no config validation) and
 * prints nothing at all when there is no project: a Tab press must never show an error.
 */
import { defineCommand } from "citty";
import { projectArgs } from "../args.ts";
import { resolveProject } from "../config/load.ts";
import { readComposeFile, serviceNames } from "../compose/target.ts";

export default defineCommand({
  meta: { name: "__services", description: "Service names of the project here, for shell completion", hidden: true },
  args: { ...projectArgs },
  run({ args }) {
    try {
      const names = serviceNames(readComposeFile(resolveProject(args).composeFile).doc);
      if (names.length > 0) process.stdout.write(`${names.join("\n")}\n`);
    } catch {
      // No project, no generated file, a bad file: nothing to offer.
    }
  },
});
