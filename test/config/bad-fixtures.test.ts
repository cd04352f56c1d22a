/**
 * The corpus of bad configs: each case folder under test/fixtures/bad/ holds config.yaml (and
 * nodes.yaml when the case is about it) and expected.txt, the exact lines cslr must print.
 * Every case: exit 2, exactly those lines, and `_build/` left as it was.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { makeProject, removeProject, repoRoot, runCli } from "../helpers/cli.ts";

const corpus = join(repoRoot, "test/fixtures/bad");
const cases = readdirSync(corpus).filter((name) => existsSync(join(corpus, name, "expected.txt")));
const projects: string[] = [];

afterAll(() => projects.forEach(removeProject));

describe.each(cases)("bad config %s", (name) => {
  test("exits 2 with its exact one-line errors and leaves _build/ untouched", async () => {
    const dir = makeProject();
    projects.push(dir);
    for (const file of ["config.yaml", "nodes.yaml"]) {
      if (existsSync(join(corpus, name, file))) cpSync(join(corpus, name, file), join(dir, file));
    }
    mkdirSync(join(dir, "_build"));
    writeFileSync(join(dir, "_build/compose.yaml"), "# the last good build\n");

    const result = await runCli(["generate"], { cwd: dir });

    const expected = readFileSync(join(corpus, name, "expected.txt"), "utf8")
      .trimEnd()
      .split("\n");
    expect(result.stderr.trimEnd().split("\n")).toEqual(expected);
    for (const line of expected) expect(line).toMatch(/^(config|nodes)\.yaml:\d+:\d+  \S+  [^;]+; .+$/);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe("");
    expect(readdirSync(join(dir, "_build"))).toEqual(["compose.yaml"]);
    expect(readFileSync(join(dir, "_build/compose.yaml"), "utf8")).toBe("# the last good build\n");
  });
});

describe("configs built to be slow or huge", () => {
  test("100,000 unknown keys: exit 2 within seconds, the first problems and a count of the rest", async () => {
    // Short keys, so the file stays under the 1 MiB limit and the keys are what is slow.
    const keys = Array.from({ length: 100_000 }, (_, i) => `k${i}: 1`).join("\n");
    const dir = makeProject({ config: `project:\n  name: cslr\n${keys}\n` });
    projects.push(dir);
    const started = performance.now();
    const result = await runCli(["generate"], { cwd: dir });
    console.log(`[time] 100,000 unknown keys reported in ${Math.round(performance.now() - started)} ms`);
    expect(result.exitCode).toBe(2);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(31);
    expect(lines[0]).toStartWith('config.yaml:3:1  k0  unknown key "k0"; expected one of:');
    expect(lines.at(-1)).toBe("config.yaml:1:1  (document)  99970 more problems not shown; expected the ones above fixed first");
  });

  test("a config file over 1 MiB is refused before it is parsed", async () => {
    const text = `# ${"x".repeat(1024 * 1024)}\nproject:\n  name: cslr\n`;
    const dir = makeProject({ config: text });
    projects.push(dir);
    const result = await runCli(["generate"], { cwd: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe(`config.yaml:1:1  (document)  file of ${text.length} bytes; expected a config under 1048576 bytes`);
  });
});
