import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findProjectDir, resolveProject } from "../../src/config/load.ts";

const root = mkdtempSync(join(tmpdir(), "cslr-project-dir-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function tree(): { project: string; deep: string; stray: string; bare: string } {
  const project = join(root, "lab");
  const deep = join(project, "exp", "run1");
  const stray = join(root, "other", "sub");
  const bare = join(root, "bare");
  for (const dir of [deep, stray, bare]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(project, "config.yaml"), "project: { name: lab }\n");
  writeFileSync(join(project, "nodes.yaml"), "head_whitelist: [ray-cpu]\n");
  // Another program's config.yaml without a nodes.yaml is not a cslr project.
  writeFileSync(join(root, "other", "config.yaml"), "unrelated: true\n");
  return { project, deep, stray, bare };
}

test("a command run in a project's subfolder works on that project, as compose finds its file upwards", () => {
  const t = tree();
  expect(findProjectDir(t.deep)).toBe(t.project);
  expect(findProjectDir(t.project)).toBe(t.project);
  const paths = resolveProject({}, t.deep);
  expect([paths.config, paths.envFile, paths.out]).toEqual([join(t.project, "config.yaml"), join(t.project, ".env"), join(t.project, "_build")]);
});

test("a folder with only a config.yaml above, or nothing, stays where it is", () => {
  const t = tree();
  expect(findProjectDir(t.stray)).toBe(t.stray);
  expect(findProjectDir(t.bare)).toBe(t.bare);
});

test("--config and search: false do not look upwards", () => {
  const t = tree();
  expect(resolveProject({}, t.deep, { search: false }).config).toBe(join(t.deep, "config.yaml"));
  expect(resolveProject({ config: "c.yaml" }, t.deep).config).toBe(join(t.deep, "c.yaml"));
});
