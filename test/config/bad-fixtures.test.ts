/**
 * The corpus of bad configs: each case folder under test/fixtures/bad/ holds config.yaml (and
 * nodes.yaml when the case is about it) and expected.txt, the exact lines cslr must print.
 * Every case: exit 2, exactly those lines, and `_build/` left as it was. The cases run the CLI
 * in this process (its `run`, stderr captured); two cases run as a real `cslr` process too, so
 * what a user's shell sees is proven as well.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../src/cli.ts";
import { makeProject, removeProject, repoRoot, runCli } from "../helpers/cli.ts";

const corpus = join(repoRoot, "test/fixtures/bad");
const cases = readdirSync(corpus).filter((name) => existsSync(join(corpus, name, "expected.txt")));
const projects: string[] = [];

afterAll(() => projects.forEach(removeProject));

interface Outcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** `cslr generate` in this process, from the project's folder, with stdout and stderr captured. */
async function generateInProcess(dir: string): Promise<Outcome> {
  const captured = { stdout: "", stderr: "" };
  const saved = { stdout: process.stdout.write, stderr: process.stderr.write, cwd: process.cwd() };
  const capture = (stream: "stdout" | "stderr") =>
    ((chunk: string | Uint8Array) => {
      captured[stream] += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = capture("stdout");
  process.stderr.write = capture("stderr");
  process.chdir(dir);
  try {
    const exitCode = await run(["generate"]);
    return { exitCode, ...captured };
  } finally {
    process.stdout.write = saved.stdout;
    process.stderr.write = saved.stderr;
    process.chdir(saved.cwd);
    process.exitCode = 0;
  }
}

/** The case that also runs as a real process (the other is the 100,000 keys below): an alias key replacing a block. */
const asProcess = new Set(["alias-key-replaces-block"]);

describe.each(cases)("bad config %s", (name) => {
  test("exits 2 with its exact one-line errors and leaves _build/ untouched", async () => {
    const dir = makeProject();
    projects.push(dir);
    for (const file of ["config.yaml", "nodes.yaml"]) {
      if (existsSync(join(corpus, name, file))) cpSync(join(corpus, name, file), join(dir, file));
    }
    mkdirSync(join(dir, "_build"));
    writeFileSync(join(dir, "_build/compose.yaml"), "# the last good build\n");

    const result = await generateInProcess(dir);
    if (asProcess.has(name)) expect(await runCli(["generate"], { cwd: dir })).toEqual(result);

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
    // A real process: the CLI as a user runs it, on the biggest input the corpus has.
    const result = await runCli(["generate"], { cwd: dir });
    console.log(`[time] 100,000 unknown keys reported in ${Math.round(performance.now() - started)} ms`);
    expect(result.exitCode).toBe(2);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(31);
    expect(lines[0]).toStartWith('config.yaml:3:1  k0  unknown key "k0"; expected one of:');
    expect(lines.at(-1)).toBe("config.yaml:1:1  (document)  99970 more problems not shown; expected the ones above fixed first");
    // The time is printed, not asserted: the limit only stops a hang (bun run bench measures).
  }, 60_000);

  test("a config file over 1 MiB is refused before it is parsed", async () => {
    const text = `# ${"x".repeat(1024 * 1024)}\nproject:\n  name: cslr\n`;
    const dir = makeProject({ config: text });
    projects.push(dir);
    const result = await generateInProcess(dir);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe(`config.yaml:1:1  (document)  file of ${text.length} bytes; expected a config under 1048576 bytes`);
  });
});
