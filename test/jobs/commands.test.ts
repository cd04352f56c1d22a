import { afterAll, expect, test } from "bun:test";
import { runCommand } from "citty";
import { UsageError } from "../../src/errors.ts";
import jobsCommand from "../../src/commands/jobs/index.ts";
import runCommandDef from "../../src/commands/run.ts";
import { FakeRay } from "./fake-ray.ts";
import { makeTree } from "./tree.ts";

const fake = new FakeRay({ steps: [{ status: "RUNNING" }, { log: "from the job\n" }, { status: "SUCCEEDED", exitCode: 0 }] });
afterAll(() => fake.stop());

test("cslr run --address URL -- COMMAND runs the job and returns its exit code", async () => {
  const dir = makeTree({ "t.py": "print(1)\n" });
  process.exitCode = undefined;
  await runCommand(runCommandDef, {
    rawArgs: [
      "--address",
      fake.url,
      "--working-dir",
      dir,
      "--env",
      "A=1",
      "--env",
      "B=2",
      "--cpus",
      "1",
      "--name",
      "exp",
      "--",
      "python",
      "t.py",
      "--env",
      "C=3",
    ],
  });
  expect(Number(process.exitCode)).toBe(0);
  expect(fake.violations).toEqual([]);
  const [body] = fake.submitted();
  expect(body!.entrypoint).toBe("python t.py --env C=3");
  expect(body!.submission_id).toStartWith("exp_");
  expect(body!.runtime_env!.env_vars).toMatchObject({ A: "1", B: "2", MLFLOW_EXPERIMENT_NAME: "cslr" });
  expect(body!.entrypoint_num_cpus).toBe(1);
});

test("bad usage is a UsageError (exit 2) before any request", async () => {
  const before = fake.requests.length;
  for (const rawArgs of [
    ["--address", fake.url, "python", "t.py"],
    ["--address", fake.url, "--cpus", "lots", "--", "x"],
    ["--address", fake.url, "--env", "1=x", "--", "x"],
  ]) {
    // Awaited: an un-awaited `rejects` settles after the count below and can never fail the test.
    await expect(runCommand(runCommandDef, { rawArgs })).rejects.toBeInstanceOf(UsageError);
  }
  expect(fake.requests.length).toBe(before);
});

test("cslr jobs lists, cslr jobs stop stops", async () => {
  await runCommand(jobsCommand, { rawArgs: ["--address", fake.url, "--json"] });
  expect(fake.calls().at(-1)).toBe("GET /api/jobs/");
  const id = fake.submitted()[0]!.submission_id!;
  await runCommand(jobsCommand, { rawArgs: ["stop", id, "--address", fake.url] });
  expect(fake.calls().slice(-1)).toEqual([`POST /api/jobs/${id}/stop`]);
});
