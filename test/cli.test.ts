import { describe, expect, test } from "bun:test";
import { main } from "../src/cli.ts";
import { checkArgs, ownWords, resolveCommand as resolveFrom, wantsHelp, type ResolvedCommand } from "../src/dispatch.ts";
import { repoRoot, runCli } from "./helpers/cli.ts";

const resolveCommand = (words: string[]) => resolveFrom(main, words);

async function argsOf(resolved: ResolvedCommand) {
  return (await (typeof resolved.command.args === "function" ? resolved.command.args() : resolved.command.args)) ?? {};
}

describe("wantsHelp", () => {
  test.each([
    [["--help"], true],
    [["up", "--help"], true],
    [["health", "serve", "-h"], true],
    [["compose", "--", "config", "--help"], false],
    [["exec", "ray-cpu", "ray", "--help"], false],
    [["exec", "--help"], true],
    [["exec", "--config", "c.yaml", "--help"], true],
    [["exec", "--config", "c.yaml", "ray-cpu", "ls", "--help"], false],
    [["generate"], false],
  ])("%j → %p", async (args, expected) => {
    const resolved = await resolveCommand(args);
    expect(wantsHelp(resolved, await argsOf(resolved))).toBe(expected);
  });
});

describe("an option's value is never a command or a positional", () => {
  test.each([
    [
      ["jobs", "--address", "http://h:8265", "logs", "raysubmit_1"],
      ["jobs", "logs"],
      ["--address", "http://h:8265", "raysubmit_1"],
    ],
    [
      ["jobs", "--address=http://h:8265", "stop", "x"],
      ["jobs", "stop"],
      ["--address=http://h:8265", "x"],
    ],
    [["logs", "health", "--since", "45s"], ["logs"], ["health", "--since", "45s"]],
    [
      ["health", "serve", "--port", "8080"],
      ["health", "serve"],
      ["--port", "8080"],
    ],
  ])("%j", async (words, path, rest) => {
    const resolved = await resolveCommand(words);
    expect(resolved.path).toEqual(path);
    expect(resolved.args).toEqual(rest);
  });

  test.each([
    [
      ["exec", "--config", "c.yaml", "ray-cpu", "ls", "-la"],
      ["--config", "c.yaml"],
    ],
    [["exec", "--quiet", "ray-cpu", "ls", "--quiet"], ["--quiet"]],
    [
      ["logs", "--since", "45s", "health"],
      ["--since", "45s", "health"],
    ],
  ])("own words of %j", async (words, own) => {
    const resolved = await resolveCommand(words);
    expect(ownWords(resolved, await argsOf(resolved))).toEqual(own);
  });
});

describe("strict arguments", () => {
  const check = async (args: string[]) => {
    const resolved = await resolveCommand(args);
    checkArgs(resolved, await argsOf(resolved));
  };
  test.each([
    [["up", "-d", "--wait"]],
    [["up", "--wait", "--wait-timeout", "120", "ray-cpu", "health"]],
    [["down", "-v"]],
    [["down", "--volumes", "--remove-orphans"]],
    [["logs", "-f", "--tail", "10", "health"]],
    [["generate", "--config=lab/config.yaml", "--check"]],
    [["--config", "lab/config.yaml", "generate", "--check"]],
    [["--config", "lab/config.yaml", "--out", "lab/_b", "up", "-d"]],
    [["up", "--no-generate"]],
    [["exec", "ray-cpu", "ray", "status", "--verbose", "--since", "1h"]],
    [["compose", "--", "logs", "--since", "45s"]],
    [["logs", "health", "--since", "45s"]],
    [["logs", "-n", "5", "-t", "--until", "2026-01-02T13:23:37Z", "health", "redis"]],
    [["jobs", "--address", "http://h:8265", "logs", "raysubmit_1"]],
    [["health", "serve", "--port", "8080", "--lease-ttl", "10s"]],
  ])("accepted: %j", async (args) => {
    await check(args);
  });
  test.each([
    [["down", "--volume"], 'cslr down: unknown option "--volume"; did you mean "--volumes"?'],
    [["logs", "health", "--sinse", "45s"], 'cslr logs: unknown option "--sinse"; did you mean "--since"?'],
    [["logs", "--since"], "cslr logs: --since needs a value (TIME)"],
    [["upp"], 'cslr: unknown command "upp"; did you mean "up"?'],
    [["stauts"], 'cslr: unknown command "stauts"; did you mean "status"?'],
    [["health", "serv"], 'cslr health: unknown command "serv"; did you mean "serve"?'],
    [["generate", "extra"], 'cslr generate: unexpected argument "extra"; this command takes no arguments'],
    [["logs", "--tail"], "cslr logs: --tail needs a value (N)"],
    [["logs", "--tail", "--follow"], "cslr logs: --tail needs a value (N)"],
    [["up", "--wait=120"], "--wait is a switch"],
    [["up", "-x"], 'cslr up: unknown option "-x"'],
  ])("refused: %j", async (args, message) => {
    const error = await check(args).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.name).toBe("UsageError");
    expect(error?.message).toContain(message);
  });
});

describe("cslr root", () => {
  test("--version prints the package version on stdout", async () => {
    const result = await runCli(["--version"], { cwd: repoRoot });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe((await Bun.file(`${repoRoot}/package.json`).json()).version);
  });

  test("an unknown command is a usage error, exit 2, with a suggestion", async () => {
    const result = await runCli(["upp"], { cwd: repoRoot });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe('cslr: unknown command "upp"; did you mean "up"?');
  });

  test("--help lists every command", async () => {
    const result = await runCli(["--help"], { cwd: repoRoot });
    expect(result.exitCode).toBe(0);
    for (const name of ["init", "generate", "up", "down", "ps", "logs", "status", "doctor", "schema"]) {
      expect(result.stdout + result.stderr).toContain(name);
    }
  });
});

describe("usage lines name the program", () => {
  test.each([
    [["jobs", "logs", "--help"], "USAGE cslr jobs logs [OPTIONS] <ID>"],
    [["health", "serve", "--help"], "USAGE cslr health serve [OPTIONS]"],
    [["generate", "--help"], "USAGE cslr generate [OPTIONS]"],
  ])("%j", async (args, line) => {
    const result = await runCli(args, { cwd: repoRoot });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split("\n").map((l) => l.trimEnd())).toContain(line);
  });
});

test("the unknown-command list names the commands and hides the completion helper __services", async () => {
  const error = await resolveCommand(["zzzzzz"]).then(
    () => undefined,
    (e: Error) => e.message,
  );
  expect(error).toStartWith('cslr: unknown command "zzzzzz"; expected one of: init, generate,');
  expect(error).toContain("status");
  expect(error).not.toContain("__services");
});
