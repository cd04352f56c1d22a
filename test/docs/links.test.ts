/** Every relative link of the README and docs/ leads somewhere: the file exists, and so does the heading its #anchor names. */
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { repoRoot } from "../helpers/cli.ts";

/** Written on other branches of issue 20; the README links them already. Remove each once it is merged. */
const pendingDocs = new Set<string>();

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes; a repeated one gets -1, -2, … */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const base = heading[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, "")
      .replaceAll(" ", "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

const files = [
  "README.md",
  ...readdirSync(join(repoRoot, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

test("every relative link in README.md and docs/ points at a file and heading that exist", () => {
  const broken: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(repoRoot, file), "utf8").replace(/```[\s\S]*?```/g, "");
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      const [path, anchor] = target!.split("#") as [string, string | undefined];
      const resolved = path === "" ? file : relative(repoRoot, join(repoRoot, dirname(file), path));
      if (pendingDocs.has(resolved)) continue;
      if (!existsSync(join(repoRoot, resolved))) broken.push(`${file}: ${target} (no file ${resolved})`);
      else if (anchor && !anchorsOf(readFileSync(join(repoRoot, resolved), "utf8")).has(anchor)) broken.push(`${file}: ${target} (no heading #${anchor})`);
    }
  }
  expect(broken).toEqual([]);
});

test("anchors are computed as GitHub does", () => {
  expect([...anchorsOf("# How the head is chosen\n## The election service (`cslr health serve`)\n### `cslr jobs logs`\n## Tests\n## Tests\n")]).toEqual([
    "how-the-head-is-chosen",
    "the-election-service-cslr-health-serve",
    "cslr-jobs-logs",
    "tests",
    "tests-1",
  ]);
});
