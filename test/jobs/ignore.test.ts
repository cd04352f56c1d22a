import { describe, expect, test } from "bun:test";
import { chmodSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { rebasePattern } from "../../src/jobs/ignore.ts";
import { listWorkingDir } from "../../src/jobs/walk.ts";
import { makeTree } from "./tree.ts";

const packed = (root: string) => listWorkingDir(root).files.map((f) => f.path);

interface Case {
  name: string;
  tree: Record<string, string>;
  packed: string[];
}

const cases: Case[] = [
  {
    name: "no ignore files: everything",
    tree: { "train.py": "", "conf/a.yaml": "" },
    packed: ["conf/a.yaml", "train.py"],
  },
  {
    name: "the default skips, at any depth, files or folders",
    tree: {
      "train.py": "",
      ".git/HEAD": "",
      "sub/.git": "gitdir: ../.git/worktrees/x",
      ".venv/bin/python": "",
      "venv/lib/x.py": "",
      "pkg/__pycache__/m.pyc": "",
      "web/node_modules/left-pad/index.js": "",
      "pkg/m.py": "",
    },
    packed: ["pkg/m.py", "train.py"],
  },
  {
    name: "the default skips cannot be re-included",
    tree: { ".gitignore": "!node_modules/\n!.git\n", "node_modules/x.js": "", ".git/HEAD": "", "a.py": "" },
    packed: [".gitignore", "a.py"],
  },
  {
    name: "a pattern without a slash matches at any depth",
    tree: { ".gitignore": "*.log\n", "a.log": "", "deep/er/b.log": "", "c.py": "" },
    packed: [".gitignore", "c.py"],
  },
  {
    name: "a leading slash anchors to the folder of the ignore file",
    tree: { ".gitignore": "/out\n", "out/x": "", "src/out/y": "" },
    packed: [".gitignore", "src/out/y"],
  },
  {
    name: "a trailing slash matches folders only",
    tree: { ".gitignore": "build/\n", "build/x.o": "", "src/build": "a file named build" },
    packed: [".gitignore", "src/build"],
  },
  {
    name: "negation re-includes a file",
    tree: { ".gitignore": "*.csv\n!keep.csv\n", "a.csv": "", "keep.csv": "", "d/keep.csv": "" },
    packed: [".gitignore", "d/keep.csv", "keep.csv"],
  },
  {
    name: "nothing inside an excluded folder can be re-included",
    tree: { ".gitignore": "data/\n!data/small.csv\n", "data/small.csv": "", "data/big.bin": "" },
    packed: [".gitignore"],
  },
  {
    name: "folder/* with a re-included subfolder",
    tree: { ".gitignore": "docs/*\n!docs/keep/\n", "docs/keep/a.md": "", "docs/other/b.md": "", "docs/c.md": "" },
    packed: [".gitignore", "docs/keep/a.md"],
  },
  {
    name: "a nested .gitignore applies below its folder only",
    tree: { "sub/.gitignore": "*.tmp\n", "sub/a.tmp": "", "sub/deeper/b.tmp": "", "c.tmp": "" },
    packed: ["c.tmp", "sub/.gitignore"],
  },
  {
    name: "a nested anchored pattern is relative to its own folder",
    tree: { "sub/.gitignore": "/x\n", "sub/x": "", x: "", "sub/y/x": "" },
    packed: ["sub/.gitignore", "sub/y/x", "x"],
  },
  {
    name: "a deeper .gitignore overrides a shallower one",
    tree: { ".gitignore": "*.bin\n", "models/.gitignore": "!final.bin\n", "models/final.bin": "", "models/ckpt.bin": "" },
    packed: [".gitignore", "models/.gitignore", "models/final.bin"],
  },
  {
    name: "a deeper negation re-includes a folder a shallower pattern excluded",
    tree: { ".gitignore": "cache\n", "a/.gitignore": "!cache\n", "a/cache/x.txt": "", "cache/y.txt": "" },
    packed: [".gitignore", "a/.gitignore", "a/cache/x.txt"],
  },
  {
    name: ".rayignore excludes on top of .gitignore",
    tree: { ".gitignore": "*.log\n", ".rayignore": "data/\n", "data/x.parquet": "", "a.log": "", "t.py": "" },
    packed: [".gitignore", ".rayignore", "t.py"],
  },
  {
    name: ".rayignore can ship a file git ignores",
    tree: { ".gitignore": "*.csv\n", ".rayignore": "!labels.csv\n", "labels.csv": "", "raw.csv": "" },
    packed: [".gitignore", ".rayignore", "labels.csv"],
  },
  {
    name: "comments, blank lines, CRLF and ** patterns",
    tree: { ".gitignore": "# comment\r\n\r\nlogs/**/*.txt\r\n", "logs/a/b/c.txt": "", "logs/keep.md": "", "x.txt": "" },
    packed: [".gitignore", "logs/keep.md", "x.txt"],
  },
  {
    name: "matching is case-sensitive",
    tree: { ".gitignore": "*.LOG\n", "a.log": "", "b.LOG": "" },
    packed: [".gitignore", "a.log"],
  },
];

describe("ignore semantics", () => {
  test.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    expect(packed(makeTree(c.tree))).toEqual(c.packed);
  });
});

/** git itself is the reference for the cases that use .gitignore files only. */
const git = Bun.which("git");
describe.skipIf(!git)("agrees with git on .gitignore-only cases", () => {
  const gitCases = cases.filter(
    (c) =>
      !Object.keys(c.tree).some(
        (p) => p.includes(".rayignore") || p.split("/").some((s) => [".git", "node_modules", ".venv", "venv", "__pycache__"].includes(s)),
      ),
  );
  test.each(gitCases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const root = makeTree(c.tree);
    const run = (args: string[]) =>
      Bun.spawnSync([git!, ...args], { cwd: root, stdout: "pipe", stderr: "pipe", env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", HOME: root } });
    run(["init", "-q"]);
    run(["config", "core.ignorecase", "false"]);
    const listed = new TextDecoder()
      .decode(run(["ls-files", "--others", "--exclude-standard", "-z"]).stdout)
      .split("\0")
      .filter(Boolean)
      .sort();
    expect(packed(root)).toEqual(listed);
  });
});
if (!git) console.log("git not found: the cross-check of ignore semantics against git is skipped");

describe("rebasePattern", () => {
  test.each([
    ["*.log", "", "*.log"],
    ["*.log", "a/b", "a/b/**/*.log"],
    ["/x", "a", "a/x"],
    ["x/y", "a", "a/x/y"],
    ["build/", "a", "a/**/build/"],
    ["!keep", "a", "!a/**/keep"],
    ["!/keep", "a", "!a/keep"],
    ["**/foo", "a", "a/**/foo"],
    ["# comment", "a", undefined],
    ["   ", "a", undefined],
    ["x\r", "", "x"],
  ] as const)("%p in %p → %p", (line, base, expected) => {
    expect(rebasePattern(line, base)).toBe(expected);
  });
});

describe("the walk", () => {
  test("empty folders, and folders whose files are all ignored, get entries of their own", () => {
    const root = makeTree({ ".gitignore": "*.pt\n", "outputs/": "", "ckpt/model.pt": "", "a.py": "" });
    expect(listWorkingDir(root).emptyDirectories).toEqual(["ckpt", "outputs"]);
  });

  test("executables are marked, symbolic links are followed, loops and dangling links are skipped with a note", () => {
    const root = makeTree({ "run.sh": "#!/bin/sh\n", "lib/m.py": "x" });
    chmodSync(join(root, "run.sh"), 0o750);
    symlinkSync(join(root, "lib"), join(root, "lib-link"));
    symlinkSync(root, join(root, "lib", "loop"));
    symlinkSync(join(root, "missing"), join(root, "dangling"));
    const listing = listWorkingDir(root);
    expect(listing.files.map((f) => [f.path, f.executable])).toEqual([
      ["lib-link/m.py", false],
      ["lib/m.py", false],
      ["run.sh", true],
    ]);
    expect(listing.notes.join("\n")).toContain("dangling: skipped");
    expect(listing.notes.join("\n")).toContain("lib/loop: skipped");
  });

  test("a FIFO is noted, never read", () => {
    const root = makeTree({ "a.py": "" });
    const mkfifo = Bun.which("mkfifo");
    if (!mkfifo) return;
    Bun.spawnSync([mkfifo, join(root, "pipe")]);
    const listing = listWorkingDir(root);
    expect(listing.files.map((f) => f.path)).toEqual(["a.py"]);
    expect(listing.notes).toEqual(["pipe: skipped, not a regular file"]);
  });
});
