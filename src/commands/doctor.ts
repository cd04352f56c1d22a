import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { checksDocument, failedChecks, renderChecks } from "../checks.ts";
import { resolveProject } from "../config/load.ts";
import { runDoctor } from "../doctor/run.ts";
import { CslrError } from "../errors.ts";
import { formatJson } from "../json.ts";

export default defineCommand({
  meta: { name: "doctor", description: "Check Docker, Compose, GPU runtime, config, secrets, images, subnets and ports; print the fix for each failure" },
  args: {
    ...commonArgs,
    json: { type: "boolean", description: "Print { schemaVersion, ok, checks } on stdout" },
  },
  async run({ args }) {
    const checks = await runDoctor(resolveProject(args));
    const failed = failedChecks(checks).length;
    if (args.json) {
      process.stdout.write(formatJson(checksDocument(checks)));
      process.exitCode = failed === 0 ? 0 : 1;
      return;
    }
    process.stdout.write(renderChecks(checks));
    if (failed > 0) throw new CslrError(`doctor: ${failed} check${failed === 1 ? "" : "s"} failed`);
    const warnings = checks.filter((c) => c.status === "warn").length;
    process.stdout.write(warnings > 0 ? `All checks passed (${warnings} warning${warnings === 1 ? "" : "s"}).\n` : "All checks passed.\n");
  },
});
