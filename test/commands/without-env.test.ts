/**
 * Commands that create no container work without `.env`: compose interpolates every
 * `${SECRET:?}` of the file for any command, so cslr gives them placeholders. Commands that
 * create containers never get one. Runs against the recording fake `docker`, which fails the
 * way compose does when a required variable is missing (FAKE_REQUIRE_ENV).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { placeholderValue } from "../../src/compose/placeholders.ts";
import { runCli } from "../helpers/cli.ts";
import { sandbox, writeProject, type Sandbox } from "../fixtures/recorder.ts";

const required = { FAKE_REQUIRE_ENV: "POSTGRES_PASSWORD REDIS_PASSWORD" };

describe("no .env", () => {
  let box: Sandbox;
  let project: string;
  const name = "cslr-noenv";

  beforeEach(() => {
    box = sandbox();
    project = join(box.dir, "project");
    mkdirSync(project);
    writeProject(project, { name, ports: { redis: [16381] }, env: false });
    const compose = join(project, "_build/compose.yaml");
    writeFileSync(
      compose,
      `${readFileSync(compose, "utf8")}    environment:\n      REDIS_PASSWORD: "\${REDIS_PASSWORD:?REDIS_PASSWORD is not set: run cslr init to create .env}"\n      DB: "\${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set: run cslr init to create .env}"\n`,
    );
    expect(existsSync(join(project, ".env"))).toBe(false);
  });
  afterEach(() => box.cleanup());

  const run = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: project, env: { ...box.env, ...required, ...env }, replaceEnv: true });

  test.each([[["down"]], [["down", "-v"]], [["ps"]], [["ps", "--json"]], [["logs", "--tail", "5"]]])("%j works", async (args) => {
    const result = await run(args);
    expect({ code: result.exitCode, stderr: result.stderr }).toMatchObject({ code: 0, stderr: expect.not.stringContaining("required variable") });
  });

  test("up gets no placeholder: it fails as compose does, naming the secret", async () => {
    const result = await run(["up", "-d", "--no-generate"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("required variable POSTGRES_PASSWORD is missing a value");
  });

  test("--dry-run shows the placeholders, so the printed line works when pasted", async () => {
    const result = await run(["down", "--dry-run"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toStartWith(`POSTGRES_PASSWORD=${placeholderValue} REDIS_PASSWORD=${placeholderValue} docker compose`);
  });

  test("a secret in .env is passed as it is; only the missing one gets a placeholder", async () => {
    writeFileSync(join(project, ".env"), "REDIS_PASSWORD=real-value\n", { mode: 0o600 });
    const result = await run(["down", "--dry-run"]);
    expect(result.stdout.trim()).toStartWith(`POSTGRES_PASSWORD=${placeholderValue} docker compose`);
    rmSync(join(project, ".env"));
  });
});
