import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "citty";
import testCommand from "../../src/commands/test.ts";
import { CslrError, UsageError } from "../../src/errors.ts";

async function failure(rawArgs: string[]): Promise<unknown> {
  try {
    await runCommand(testCommand, { rawArgs });
  } catch (error) {
    return error;
  }
  throw new Error(`cslr test ${rawArgs.join(" ")} did not fail`);
}

describe("cslr test: arguments", () => {
  test.each([
    [["--up", "--down"], "--up and --down cannot be combined"],
    [["--down", "--logs", "--up"], "--up and --down and --logs cannot be combined"],
    [["--timeout", "soon"], '--timeout "soon": expected a duration like 60, 60s or 2m'],
    [["--timeout", "0"], '--timeout "0": expected a duration like 60, 60s or 2m'],
    [["--json", "--down"], "--json reports the checks; expected `cslr test --json` without --down"],
  ])("%j is a usage error", async (rawArgs, message) => {
    const error = await failure(rawArgs);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toStartWith(message);
  });

  test("--down without a generated file says what to run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cslr-test-cmd-"));
    try {
      const error = await failure(["--down", "--config", join(dir, "config.yaml"), "--out", join(dir, "_build")]);
      expect(error).toBeInstanceOf(CslrError);
      expect((error as Error).message).toBe(
        `no generated compose file at ${join(dir, "_build", "cluster-test.compose.yaml")}: run \`cslr test\` (or \`cslr generate\`) first`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
