/**
 * `cslr completion bash|zsh|fish` from the compiled binary: each script is valid in its shell
 * and completes what the command table says. bash is driven through its completion function;
 * fish through `complete -C`; zsh through its completion function with zsh's completion
 * builtins replaced by recorders (a real zsh completion needs a terminal). A shell that is not
 * installed is skipped with a visible line.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commands } from "../../src/commands/index.ts";
import { compiledCslr } from "../helpers/binary.ts";
import { runCli, runProcess } from "../helpers/cli.ts";

const installed = (shell: string) => Bun.which(shell) !== null;
for (const shell of ["zsh", "fish"])
  if (!installed(shell)) console.warn(`completion: ${shell} not installed; its checks are skipped (apt-get install ${shell})`);

let dir: string;
let bin: string;
let project: string;
const scripts: Record<string, string> = {};
let env: Record<string, string>;

beforeAll(async () => {
  const cslr = await compiledCslr();
  dir = mkdtempSync(join(tmpdir(), "cslr-completion-"));
  // `cslr` on PATH, as a user has it: the scripts call it for service names.
  bin = join(dir, "bin");
  mkdirSync(bin);
  symlinkSync(cslr, join(bin, "cslr"));
  project = join(dir, "project");
  mkdirSync(join(project, "_build"), { recursive: true });
  writeFileSync(join(project, "_build/compose.yaml"), "name: cli-completion\nservices:\n  health: {}\n  redis: {}\n  ray-cpu: {}\n");
  env = { PATH: `${bin}:${process.env.PATH}`, HOME: dir };
  for (const shell of ["bash", "zsh", "fish"]) {
    const result = await runCli(["completion", shell], { cli: [cslr], cwd: dir });
    expect(result.exitCode).toBe(0);
    scripts[shell] = result.stdout;
    writeFileSync(join(dir, `cslr.${shell}`), result.stdout);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the scripts are valid", () => {
  test("bash -n", async () => {
    const result = await runProcess(["bash", "-n", join(dir, "cslr.bash")], { cwd: dir });
    expect({ code: result.exitCode, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  });
  test.skipIf(!installed("zsh"))("zsh -n", async () => {
    const result = await runProcess(["zsh", "-n", join(dir, "cslr.zsh")], { cwd: dir });
    expect({ code: result.exitCode, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  });
  test.skipIf(!installed("fish"))("fish -n", async () => {
    const result = await runProcess(["fish", "-n", join(dir, "cslr.fish")], { cwd: dir });
    expect({ code: result.exitCode, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  });
});

/** Words typed so far (the last one is being completed) → what the shell would offer. */
const cases: [line: string[], offered: string[]][] = [
  [
    ["up", "--w"],
    ["--wait", "--wait-timeout"],
  ],
  [["st"], ["start", "status", "stop"]],
  [
    ["jobs", "l"],
    ["list", "logs"],
  ],
  [
    ["jobs", "--address", "http://h:8265", "l"],
    ["list", "logs"],
  ],
  [["logs", "--since", "1h", "--ti"], ["--timestamps"]],
  [["down", "--vol"], ["--volumes"]],
  [
    ["help", "jobs", ""],
    ["list", "logs", "stop"],
  ],
  [
    ["health", ""],
    ["ping", "serve"],
  ],
  [
    ["completion", ""],
    ["bash", "fish", "zsh"],
  ],
  [
    ["logs", "r"],
    ["ray-cpu", "redis"],
  ],
  [["logs", "-f", "redis", "h"], ["health"]],
  [["exec", "--index", "2", "h"], ["health"]],
  [["exec", "redis", "h"], []],
  [["logs", "--since", ""], []],
  [["compose", "--", ""], []],
  [["up", "--no-g"], ["--no-generate"]],
];

describe("bash completes from the command table", () => {
  const complete = async (words: string[]) => {
    const script = `source ${join(dir, "cslr.bash")}
COMP_WORDS=(cslr ${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length}
_cslr; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const result = await runProcess(["bash", "-c", script], { cwd: project, env, replaceEnv: true });
    expect(result.stderr).toBe("");
    return result.stdout.split("\n").filter(Boolean).sort();
  };
  test.each(cases)("cslr %j → %j", async (words, offered) => {
    expect(await complete(words)).toEqual(offered);
  });
  test("FILE values complete files, DIR values folders", async () => {
    writeFileSync(join(project, "lab.yaml"), "");
    mkdirSync(join(project, "labdir"), { recursive: true });
    expect(await complete(["up", "--config", "lab"])).toEqual(["lab.yaml", "labdir"]);
    expect(await complete(["templates", "eject", "--dir", "lab"])).toEqual(["labdir"]);
  });
  test("every command of the table, and nothing hidden, is offered after cslr", async () => {
    const visible = Object.keys(commands).filter((name) => !name.startsWith("__"));
    expect(await complete([""])).toEqual(visible.sort());
  });
  test("outside a project no service is offered, and nothing is printed", async () => {
    const script = `source ${join(dir, "cslr.bash")}; COMP_WORDS=(cslr logs ''); COMP_CWORD=2; _cslr; echo "\${#COMPREPLY[@]}"`;
    const result = await runProcess(["bash", "-c", script], { cwd: dir, env, replaceEnv: true });
    expect({ stdout: result.stdout, stderr: result.stderr }).toEqual({ stdout: "0\n", stderr: "" });
  });
});

describe.skipIf(!installed("fish"))("fish completes from the command table", () => {
  test.each(cases)("cslr %j → %j", async (words, offered) => {
    const line = ["cslr", ...words].map((w) => (w === "" ? "" : `'${w}'`)).join(" ");
    const script = `source ${join(dir, "cslr.fish")}; complete -C ${JSON.stringify(line)}`;
    const result = await runProcess(["fish", "--no-config", "-c", script], { cwd: project, env, replaceEnv: true });
    expect(result.stderr).toBe("");
    // fish adds files where a rule allows them; cslr's rules offer none but FILE/DIR values.
    expect(
      result.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split("\t")[0]!)
        .sort(),
    ).toEqual(offered);
  });
});

describe.skipIf(!installed("zsh"))("zsh's completion function, with zsh's completion builtins recorded", () => {
  // _describe, compadd, _files and _message print what they were given, filtered by the word typed.
  const stubs = `
compdef() { :; }
_describe() { local -a items; items=("\${(@P)\${@[-1]}}"); local i; for i in $items; do i=\${i%%:*}; [[ \${i//\\\\/} == $PREFIX* ]] && print -r -- \${i//\\\\/}; done; }
compadd() { local -a items; if [[ $1 == -a ]]; then items=("\${(@P)2}"); else items=("$@"); fi; local i; for i in $items; do [[ $i == $PREFIX* ]] && print -r -- $i; done; }
_files() { print -r -- "<files $*>"; }
_message() { :; }
`;
  test.each(cases)("cslr %j → %j", async (words, offered) => {
    const script = `${stubs}
source ${join(dir, "cslr.zsh")}
words=(cslr ${words.map((w) => `'${w}'`).join(" ")}); CURRENT=${words.length + 1}; PREFIX=${`'${words.at(-1)}'`}
_cslr`;
    const result = await runProcess(["zsh", "-f", "-c", script], { cwd: project, env, replaceEnv: true });
    expect(result.stderr).toBe("");
    expect(result.stdout.split("\n").filter(Boolean).sort()).toEqual(offered);
  });
});

describe("cslr completion: bad usage", () => {
  test.each([
    [["completion", "tcsh"], 'cslr completion: unknown shell "tcsh"; expected one of: bash, zsh, fish'],
    [["completion"], "cslr completion: expected a shell, one of: bash, zsh, fish (like `source <(cslr completion bash)`)"],
    [["completion", "bash", "zsh"], 'cslr completion: unexpected argument "zsh"; expected at most 1 (see `cslr completion --help`)'],
  ])("%j is exit 2", async (args, message) => {
    const result = await runCli(args, { cli: [await compiledCslr()], cwd: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe(message);
    expect(result.stdout).toBe("");
  });
});

describe("cslr __services (hidden)", () => {
  test("prints the project's services, one a line", async () => {
    const result = await runCli(["__services"], { cli: [await compiledCslr()], cwd: project });
    expect({ code: result.exitCode, stdout: result.stdout }).toEqual({ code: 0, stdout: "health\nredis\nray-cpu\n" });
  });
  test("outside a project: nothing, exit 0", async () => {
    const empty = mkdtempSync(join(tmpdir(), "cslr-completion-empty-"));
    try {
      const result = await runCli(["__services"], { cli: [await compiledCslr()], cwd: empty });
      expect({ code: result.exitCode, stdout: result.stdout, stderr: result.stderr }).toEqual({ code: 0, stdout: "", stderr: "" });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
  test("is not in the help", async () => {
    const result = await runCli(["--help"], { cli: [await compiledCslr()], cwd: dir });
    expect(result.stdout).not.toContain("__services");
    expect(result.stdout).toContain("completion");
  });
});
