/**
 * `bun scripts/docs.ts`: rewrites the generated parts of the documentation: the configuration
 * reference in docs/configuration.md (from the schema), the command reference in
 * docs/commands.md and the README's one line per command (from the command table).
 * test/docs/generated.test.ts fails when any of them is stale.
 */
import { join } from "node:path";
import { main } from "../src/cli.ts";
import { generatedDocs } from "../src/docs/generated.ts";

const root = join(import.meta.dir, "..");
for (const { file, update } of await generatedDocs(main)) {
  const path = join(root, file);
  const before = await Bun.file(path).text();
  const after = update(before);
  if (after !== before) await Bun.write(path, after);
  console.error(`${file}: ${after === before ? "up to date" : "updated"}`);
}
