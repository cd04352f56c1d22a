import { describe, expect, test } from "bun:test";
import { wantsHelp } from "../src/cli.ts";
import { repoRoot, runCli } from "./helpers/cli.ts";

describe("wantsHelp", () => {
  test.each([
    [["--help"], true],
    [["up", "--help"], true],
    [["health", "serve", "-h"], true],
    [["compose", "--", "config", "--help"], false],
    [["exec", "ray-cpu", "ray", "--help"], false],
    [["exec", "--help"], true],
    [["generate"], false],
  ])("%j → %p", (args, expected) => {
    expect(wantsHelp(args)).toBe(expected);
  });
});

describe("cslr root", () => {
  test("--version prints the package version on stdout", async () => {
    const result = await runCli(["--version"], { cwd: repoRoot });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe((await Bun.file(`${repoRoot}/package.json`).json()).version);
  });

  test("an unknown command is a usage error, exit 2", async () => {
    const result = await runCli(["frobnicate"], { cwd: repoRoot });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("Unknown command");
  });

  test("--help lists every command", async () => {
    const result = await runCli(["--help"], { cwd: repoRoot });
    expect(result.exitCode).toBe(0);
    for (const name of ["init", "generate", "up", "down", "ps", "logs", "status", "doctor", "schema"]) {
      expect(result.stdout + result.stderr).toContain(name);
    }
  });
});
