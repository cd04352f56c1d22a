/**
 * `cslr version [--json]`. The plain form is what `cslr --version` prints (src/main.ts answers
 * both without loading the CLI); --json adds the runtime, for bug reports and scripts.
 */
import { defineCommand } from "citty";
import pkg from "../../package.json" with { type: "json" };
import { logArgs } from "../args.ts";
import { formatJson, jsonDocument } from "../json.ts";

export function versionReport() {
  return jsonDocument({ version: pkg.version, bun: Bun.version, platform: process.platform, arch: process.arch });
}

export default defineCommand({
  meta: { name: "version", description: "Print cslr's version (--json: with the Bun runtime and platform)" },
  args: {
    ...logArgs,
    json: { type: "boolean", description: "Print { schemaVersion, version, bun, platform, arch } on stdout" },
  },
  run({ args }) {
    process.stdout.write(args.json ? formatJson(versionReport()) : `${pkg.version}\n`);
  },
});
