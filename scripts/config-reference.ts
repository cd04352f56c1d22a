/** `bun scripts/config-reference.ts`: rewrites README.md's configuration reference from the schema. */
import { join } from "node:path";
import { withReference } from "../src/config/reference.ts";

const readmePath = join(import.meta.dir, "..", "README.md");
const readme = await Bun.file(readmePath).text();
await Bun.write(readmePath, withReference(readme));
console.error("README.md: configuration reference updated");
