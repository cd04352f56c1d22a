import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { ExitCode } from "../errors.ts";
import { displayPath, resolveProject } from "../config/load.ts";
import { log } from "../log.ts";
import { generateProject, staleFiles } from "../render/generate.ts";

export default defineCommand({
  meta: { name: "generate", description: "Validate the config and render _build/ (compose.yaml, ray-ep.sh, ...)" },
  args: {
    ...commonArgs,
    check: { type: "boolean", description: "Write nothing; exit 1 when _build/ is stale" },
    stdout: { type: "boolean", description: "Print compose.yaml to stdout instead of writing _build/" },
  },
  async run({ args }) {
    const preview = args.check || args.stdout;
    const result = await generateProject(resolveProject(args), { dryRun: preview, allowMissingSecrets: args.stdout });
    const outDir = result.paths.out;
    if (args.stdout) {
      process.stdout.write(result.files.find((f) => f.name === "compose.yaml")!.content);
      return;
    }
    if (args.check) {
      const stale = staleFiles(outDir, result.files);
      if (stale.length > 0) {
        log.warn(`${displayPath(outDir)} is stale: ${stale.join(", ")} differ; run \`cslr generate\``);
        process.exitCode = ExitCode.failure;
        return;
      }
      log.success(`${displayPath(outDir)} is up to date`);
      return;
    }
    log.success(`wrote ${result.files.map((f) => `${displayPath(outDir)}/${f.name}`).join(", ")}`);
  },
});
