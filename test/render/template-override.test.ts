/**
 * Only templates the user ejected override the embedded ones: cslr's own repository has a
 * `templates/` folder, and a quick-start config.yaml beside it must not pick it up silently.
 */
import { afterAll, expect, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ejectedMarker, loadTemplateSet } from "../../src/render/generate.ts";
import { embeddedTemplateSet } from "../../src/render/render.ts";
import { repoRoot, runCli } from "../helpers/cli.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "cslr-tpl-"));
  dirs.push(dir);
  return dir;
}

test("a templates/ folder without the eject marker (like the repository's own) is not an override", () => {
  const dir = join(tempDir(), "templates");
  cpSync(join(repoRoot, "templates"), dir, { recursive: true });
  writeFileSync(join(dir, "compose.yaml.eta"), "# edited by someone\n");
  expect(loadTemplateSet(dir)["compose.yaml"]).toBe(embeddedTemplateSet()["compose.yaml"]);
  writeFileSync(join(dir, ejectedMarker), "");
  expect(loadTemplateSet(dir)["compose.yaml"]).toBe("# edited by someone\n");
});

test("cslr templates eject writes the marker, so what it ejected is used", async () => {
  const dir = join(tempDir(), "tpl");
  const result = await runCli(["templates", "eject", "--dir", dir], { cwd: repoRoot });
  expect(result.exitCode).toBe(0);
  expect(existsSync(join(dir, ejectedMarker))).toBe(true);
  writeFileSync(join(dir, "compose.yaml.eta"), `${readFileSync(join(dir, "compose.yaml.eta"), "utf8")}# mine\n`);
  expect(loadTemplateSet(dir)["compose.yaml"]).toEndWith("# mine\n");
});
