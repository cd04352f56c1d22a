import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineCommand } from "citty";
import { logArgs, projectArgs } from "../../args.ts";
import { resolveProject } from "../../config/load.ts";
import { CslrError } from "../../errors.ts";
import { log } from "../../log.ts";
import { templateNames, templates } from "../../render/engine.ts";
import { ejectedMarker } from "../../render/generate.ts";

export default defineCommand({
  meta: { name: "eject", description: "Write the embedded templates to templates/ beside config.yaml to customise them" },
  args: {
    ...logArgs,
    config: projectArgs.config,
    dir: { type: "string", description: "Folder to write to (default: templates/ beside config.yaml, where `generate` reads them)", valueHint: "DIR" },
    force: { type: "boolean", description: "Overwrite templates that already exist there" },
  },
  run({ args }) {
    const dir = args.dir !== undefined ? resolve(args.dir) : join(resolveProject(args).dir, "templates");
    const existing = templateNames.filter((name) => existsSync(join(dir, `${name}.eta`)));
    if (existing.length > 0 && !args.force) {
      throw new CslrError(`${dir}: ${existing.map((n) => `${n}.eta`).join(", ")} already exist; use --force to overwrite them`);
    }
    mkdirSync(dir, { recursive: true });
    for (const name of templateNames) writeFileSync(join(dir, `${name}.eta`), templates[name].text);
    writeFileSync(
      join(dir, ejectedMarker),
      "# Written by `cslr templates eject`: cslr generate uses the templates in this folder.\n# Remove this file to go back to the embedded templates.\n",
    );
    log.success(`wrote ${templateNames.length} templates to ${dir}; \`cslr generate\` now uses them`);
  },
});
