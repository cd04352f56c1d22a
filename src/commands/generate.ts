import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { ExitCode } from "../errors.ts";
import { displayPath } from "../config/load.ts";
import { log, setLogLevel } from "../log.ts";
import { renderProject, staleFiles } from "../render/generate.ts";

export default defineCommand({
  meta: { name: "generate", description: "Validate the config and render _build/ (compose.yaml, ray-ep.sh, ...)" },
  args: {
    ...commonArgs,
    check: { type: "boolean", description: "Write nothing; exit 1 when _build/ is stale" },
    stdout: { type: "boolean", description: "Print compose.yaml to stdout instead of writing _build/" },
  },
  async run({ args }) {
    setLogLevel(args);
    const paths = { config: args.config, nodes: args.nodes, out: args.out };
    const preview = args.check || args.stdout;
    const result = await renderProject(paths, { dryRun: preview, allowMissingSecrets: args.stdout });
    if (args.stdout) {
      process.stdout.write(result.files.find((f) => f.name === "compose.yaml")!.content);
      return ExitCode.ok;
    }
    if (args.check) {
      const stale = staleFiles(result.outDir, result.files);
      if (stale.length > 0) {
        log.warn(`${displayPath(result.outDir)} is stale: ${stale.join(", ")} differ; run \`cslr generate\``);
        return ExitCode.failure;
      }
      log.success(`${displayPath(result.outDir)} is up to date`);
      return ExitCode.ok;
    }
    log.success(`wrote ${result.files.map((f) => `${displayPath(result.outDir)}/${f.name}`).join(", ")}`);
    return ExitCode.ok;
  },
});
