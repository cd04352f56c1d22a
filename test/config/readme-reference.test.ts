import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { withReference } from "../../src/config/reference.ts";
import { repoRoot } from "../helpers/cli.ts";

test("README's configuration reference matches the schema (fix: bun scripts/config-reference.ts)", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  expect(readme).toBe(withReference(readme));
  expect(readme).toContain("`services.ray.cpu.dashboard_port`");
});
