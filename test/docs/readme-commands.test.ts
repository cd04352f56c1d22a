/**
 * "Every command in the README runs as written", as far as it can without a cluster: each
 * cslr command line the README shows (its ```sh blocks and inline `cslr …` spans) goes
 * through the CLI's own strict dispatch — the command path resolved, every flag known and
 * given its value, no surplus arguments — and citty's parse of the arguments (required
 * positionals): what `cslr` checks before a command's own code runs.
 */
import { expect, test } from "bun:test";
import { parseArgs } from "citty";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { main } from "../../src/cli.ts";
import { checkArgs, resolveCommand, resolveValue, wantsHelp } from "../../src/dispatch.ts";
import { documentCommandLines, shellWords } from "../../src/docs/command-lines.ts";
import { repoRoot } from "../helpers/cli.ts";

/** The CLI's verdict on one command line: undefined when it would run, else the usage error. */
async function usageProblem(words: string[]): Promise<string | undefined> {
  try {
    const resolved = await resolveCommand(main, words);
    if (resolved.path.length === 0) return "no command";
    const args = await resolveValue(resolved.command.args ?? {});
    // As the CLI does: a request for help shows it, whatever else the line holds.
    if (wantsHelp(resolved, args as never)) return undefined;
    checkArgs(resolved, args as never);
    // citty's own parse, as the command's run gets it: a missing required positional fails here.
    parseArgs(resolved.args, args as never);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
const lines = documentCommandLines(readme);

test("the README shows its commands: quick start, the experiment, joining, several commands inline", () => {
  const texts = lines.map((l) => l.text);
  expect(texts).toContain("./dist/cslr up -d --wait");
  expect(texts).toContain("cslr run -- python train.py");
  expect(texts.some((t) => t.startsWith("cslr join http"))).toBe(true);
  expect(lines.length).toBeGreaterThan(30);
});

test("every cslr command line in the README parses as a real command with valid flags", async () => {
  const problems: string[] = [];
  for (const line of lines) {
    const problem = await usageProblem(line.words);
    if (problem) problems.push(`README.md:${line.line}: \`${line.text}\`: ${problem}`);
  }
  expect(problems).toEqual([]);
});

test("the check catches what a reader would trip over: a misspelt flag, an unknown command, a missing value, a surplus argument", async () => {
  const bad = ["up --detatch", "lgos ray-cpu", "logs --tail", "init extra", "jobs logs"];
  for (const line of bad) expect({ line, problem: await usageProblem(shellWords(line)) }).toEqual({ line, problem: expect.any(String) });
  expect(await usageProblem(shellWords("logs -f --tail 20 ray-cpu"))).toBeUndefined();
});

test("command lines are found in sh blocks and code spans, cut at shell operators, comments dropped", () => {
  const doc = [
    "Run `cslr status` or `ls`; `source <(cslr completion bash)`.",
    "```sh",
    "bun run build && ./dist/cslr init   # writes config.yaml",
    "cslr jobs | head",
    "```",
    "```python",
    "cslr = 1",
    "```",
  ].join("\n");
  expect(documentCommandLines(doc)).toEqual([
    { line: 1, text: "cslr status", words: ["status"] },
    { line: 1, text: "cslr completion bash", words: ["completion", "bash"] },
    { line: 3, text: "./dist/cslr init", words: ["init"] },
    { line: 4, text: "cslr jobs", words: ["jobs"] },
  ]);
});
