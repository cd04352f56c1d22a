import { describe, expect, test } from "bun:test";
import { buildSubmitRequest, newSubmissionId, shellJoin, shellQuote, type SubmitPlan } from "../../src/jobs/submit.ts";
import { rayJobSubmitRequest } from "./ray-spec.ts";

const words = ["python", "train.py", "--lr=0.1", "", "two words", "it's", "$HOME", "a;b", "naïve", "`x`", "*.py", "@a%b+c=d:e,f./-"];

describe("the entrypoint", () => {
  test("each word is quoted as shlex.quote does", () => {
    expect(words.map(shellQuote)).toEqual([
      "python",
      "train.py",
      "--lr=0.1",
      "''",
      "'two words'",
      "'it'\"'\"'s'",
      "'$HOME'",
      "'a;b'",
      "'naïve'",
      "'`x`'",
      "'*.py'",
      "@a%b+c=d:e,f./-",
    ]);
  });

  const python = Bun.which("python3");
  test.skipIf(!python)("the same as Python's shlex.join, which ray job submit uses", () => {
    const run = Bun.spawnSync([python!, "-c", "import json,shlex,sys; print(shlex.join(json.loads(sys.argv[1])), end='')", JSON.stringify(words)], {
      stdout: "pipe",
    });
    expect(shellJoin(words)).toBe(run.stdout.toString());
  });

  const sh = Bun.which("sh");
  test.skipIf(!sh)("a shell gives the job back the words as typed", () => {
    const run = Bun.spawnSync([sh!, "-c", `printf '%s\\n' ${shellJoin(words.slice(1))}`], { stdout: "pipe", env: { HOME: "/nowhere" } });
    expect(run.stdout.toString()).toBe(`${words.slice(1).join("\n")}\n`);
  });
});

test("submission ids: the prefix, then 16 characters of Ray's alphabet", () => {
  const ids = new Set(Array.from({ length: 200 }, () => newSubmissionId("raysubmit")));
  expect(ids.size).toBe(200);
  for (const id of ids) expect(id).toMatch(/^raysubmit_[A-HJ-NP-Za-km-z1-9]{16}$/);
  expect(newSubmissionId("sweep", () => new Uint8Array(32).fill(0))).toBe("sweep_AAAAAAAAAAAAAAAA");
});

const plan: SubmitPlan = {
  command: ["python", "train.py"],
  submissionId: "raysubmit_abc",
  workingDirUri: "gcs://_ray_pkg_0123.zip",
  mlflowTrackingUri: "http://mlflow:5000",
  experiment: "proj",
  env: [
    ["A", "1"],
    ["A", "2"],
  ],
  origin: { user: "ada", host: "laptop", workingDir: "/home/ada/proj", cslrVersion: "0.1.0" },
};

describe("the request body", () => {
  test("fits Ray's JobSubmitRequest, without resources unless asked and without git outside a repository", () => {
    const body = buildSubmitRequest(plan);
    expect(rayJobSubmitRequest.safeParse(body).success).toBe(true);
    expect(body).toEqual({
      entrypoint: "python train.py",
      submission_id: "raysubmit_abc",
      runtime_env: {
        working_dir: "gcs://_ray_pkg_0123.zip",
        env_vars: { MLFLOW_TRACKING_URI: "http://mlflow:5000", MLFLOW_EXPERIMENT_NAME: "proj", MLFLOW_RUN_CONTEXT: '{"cslr_job":"raysubmit_abc"}', A: "2" },
      },
      metadata: { cslr_user: "ada", cslr_host: "laptop", cslr_working_dir: "/home/ada/proj", cslr_version: "0.1.0" },
    });
  });

  test("with resources and git; JSON-serialised it still fits (memory an integer)", () => {
    const body = buildSubmitRequest({ ...plan, cpus: 1.5, gpus: 1, memoryBytes: 2 ** 33, git: { commit: "f".repeat(40), dirty: false } });
    const parsed = rayJobSubmitRequest.safeParse(JSON.parse(JSON.stringify(body)));
    expect(parsed.success).toBe(true);
    expect(body.metadata.cslr_git_dirty).toBe("false");
    expect([body.entrypoint_num_cpus, body.entrypoint_num_gpus, body.entrypoint_memory]).toEqual([1.5, 1, 2 ** 33]);
  });

  test("without an MLflow URI only the experiment is set", () => {
    expect(buildSubmitRequest({ ...plan, mlflowTrackingUri: undefined, env: [] }).runtime_env.env_vars).toEqual({
      MLFLOW_EXPERIMENT_NAME: "proj",
      MLFLOW_RUN_CONTEXT: '{"cslr_job":"raysubmit_abc"}',
    });
  });
});
