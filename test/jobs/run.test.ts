import { afterEach, describe, expect, test } from "bun:test";
import { JobsClient } from "../../src/jobs/client.ts";
import { packWorkingDir, type WorkingDirPackage } from "../../src/jobs/pack.ts";
import { runJob, type RunIo, type RunRequest } from "../../src/jobs/run.ts";
import type { JobsTarget } from "../../src/jobs/target.ts";
import { FakeRay, type FakeRayOptions } from "./fake-ray.ts";
import { makeTree } from "./tree.ts";

const fakes: FakeRay[] = [];
afterEach(() => {
  while (fakes.length) fakes.pop()!.stop();
});

function fakeRay(options: FakeRayOptions = {}): FakeRay {
  const fake = new FakeRay(options);
  fakes.push(fake);
  return fake;
}

interface Harness {
  io: RunIo;
  stdout: string[];
  stderr: string[];
  ids: string[];
  interrupt(): void;
}

function harness(overrides: Partial<RunIo> = {}): Harness {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const ids: string[] = [];
  let handler: (() => void) | undefined;
  const io: RunIo = {
    writeLog: (text) => stdout.push(text),
    say: (line) => stderr.push(line),
    printId: (id) => ids.push(id),
    logOnScreen: false,
    interrupts: {
      subscribe(h) {
        handler = h;
        return () => {
          handler = undefined;
        };
      },
    },
    identity: { user: "ada", host: "laptop" },
    cslrVersion: "0.1.0",
    git: () => ({ commit: "0123456789abcdef0123456789abcdef01234567", dirty: true }),
    follow: { watchdogMs: 20, graceMs: 30, pollMs: 10, retryMs: 5, maxFailures: 3 },
    ...overrides,
  };
  return { io, stdout, stderr, ids, interrupt: () => handler?.() };
}

const request = (workingDir: string, extra: Partial<RunRequest> = {}): RunRequest => ({
  workingDir,
  command: ["python", "train.py", "--lr", "0.1", "it's"],
  env: [
    ["SEED", "7"],
    ["MLFLOW_EXPERIMENT_NAME", "override"],
  ],
  experiment: "proj",
  namePrefix: "raysubmit",
  detach: false,
  ...extra,
});

const target = (fake: FakeRay, token?: string): JobsTarget => ({ url: fake.url, token, mlflowTrackingUri: "http://mlflow:5000", projectName: "proj" });
const client = (fake: FakeRay, token?: string) => new JobsClient({ url: fake.url, token });
const tree = () => makeTree({ "train.py": "print('hi')\n", "data/labels.csv": "a,b\n" });

describe("cslr run against a Ray head", () => {
  test("uploads, submits the body Ray expects, prints the log once and exits 0 when the job succeeds", async () => {
    const fake = fakeRay({
      steps: [{ status: "RUNNING" }, { log: "epoch 1\n" }, { log: "epoch 2\nepoch 3\n" }, { waitMs: 40, log: "done\n" }, { status: "SUCCEEDED", exitCode: 0 }],
    });
    const h = harness();
    const code = await runJob(request(tree(), { cpus: 2, gpus: 0.5, memoryBytes: 8 * 1024 ** 3 }), target(fake), client(fake), h.io);
    expect(fake.violations).toEqual([]);
    expect(code).toBe(0);
    expect(h.stdout.join("")).toBe("epoch 1\nepoch 2\nepoch 3\ndone\n");
    const [pkgName] = [...fake.packages.keys()];
    expect(fake.calls().slice(0, 4)).toEqual(["GET /api/version", `GET /api/packages/gcs/${pkgName}`, `PUT /api/packages/gcs/${pkgName}`, "POST /api/jobs/"]);
    expect(fake.calls()).toContain(`GET /api/jobs/${fake.submitted()[0]!.submission_id}/logs/tail`);
    const [body] = fake.submitted();
    expect(body).toEqual({
      entrypoint: "python train.py --lr 0.1 'it'\"'\"'s'",
      submission_id: expect.stringMatching(/^raysubmit_[A-HJ-NP-Za-km-z1-9]{16}$/),
      runtime_env: {
        working_dir: `gcs://${pkgName}`,
        env_vars: {
          MLFLOW_TRACKING_URI: "http://mlflow:5000",
          MLFLOW_EXPERIMENT_NAME: "override",
          // MLflow tags every run the job starts with its submission id (the coordinator ends a dead driver's runs).
          MLFLOW_RUN_CONTEXT: expect.stringMatching(/^\{"cslr_job":"raysubmit_[A-HJ-NP-Za-km-z1-9]{16}"\}$/),
          SEED: "7",
        },
      },
      metadata: {
        cslr_user: "ada",
        cslr_host: "laptop",
        cslr_working_dir: expect.stringMatching(/^\//),
        cslr_version: "0.1.0",
        cslr_git_commit: "0123456789abcdef0123456789abcdef01234567",
        cslr_git_dirty: "true",
      },
      entrypoint_num_cpus: 2,
      entrypoint_num_gpus: 0.5,
      entrypoint_memory: 8 * 1024 ** 3,
    });
    expect(h.stderr.at(-1)).toMatch(/^job raysubmit_\w+ succeeded in \d+\.\ds$/);
  });

  test("a second run of the same tree finds the package (200) and uploads nothing", async () => {
    const fake = fakeRay();
    const dir = tree();
    expect(await runJob(request(dir), target(fake), client(fake), harness().io)).toBe(0);
    const h = harness();
    expect(await runJob(request(dir), target(fake), client(fake), h.io)).toBe(0);
    expect(fake.violations).toEqual([]);
    expect(fake.calls().filter((c) => c.startsWith("PUT "))).toHaveLength(1);
    expect(h.stderr[0]).toStartWith("working directory unchanged (2 files");
  });

  test("a failing entrypoint exits 1 with the job's last lines and why", async () => {
    const fake = fakeRay({
      steps: [
        { status: "RUNNING" },
        { log: "loading\nTraceback (most recent call last):\nValueError: bad lr\n" },
        {
          status: "FAILED",
          exitCode: 3,
          errorType: "JOB_ENTRYPOINT_COMMAND_ERROR",
          message: "Job entrypoint command failed with exit code 3, last available logs (truncated to 20,000 chars):\nValueError: bad lr\n",
        },
      ],
    });
    const h = harness();
    expect(await runJob(request(tree()), target(fake), client(fake), h.io)).toBe(1);
    expect(fake.violations).toEqual([]);
    expect(h.stderr.slice(-4)).toEqual([
      "  | loading",
      "  | Traceback (most recent call last):",
      "  | ValueError: bad lr",
      expect.stringMatching(/^job (raysubmit_\w+) failed in [\d.]+s: its command exited with code 3; see its whole log with cslr jobs logs \1$/),
    ]);
  });

  test("--quiet: progress and success go to info, which the command silences; a failure still goes to say", async () => {
    const quiet = async (steps: FakeRayOptions["steps"]) => {
      const fake = fakeRay({ steps });
      const info: string[] = [];
      const h = harness({ info: (line) => info.push(line) });
      const code = await runJob(request(tree()), target(fake), client(fake), h.io);
      return { code, info, say: h.stderr };
    };
    const ok = await quiet([{ status: "RUNNING" }, { log: "hi\n" }, { status: "SUCCEEDED", exitCode: 0 }]);
    expect(ok.code).toBe(0);
    expect(ok.say).toEqual([]);
    expect(ok.info[0]).toStartWith("uploaded the working directory");
    expect(ok.info.at(-1)).toMatch(/^job raysubmit_\w+ succeeded in/);
    const failed = await quiet([
      { status: "RUNNING" },
      { status: "FAILED", exitCode: 3, errorType: "JOB_ENTRYPOINT_COMMAND_ERROR", message: "Job entrypoint command failed with exit code 3" },
    ]);
    expect(failed.code).toBe(1);
    expect(failed.say.at(-1)).toMatch(/^job raysubmit_\w+ failed in [\d.]+s: its command exited with code 3/);
    expect(failed.info.some((line) => line.includes("failed"))).toBe(false);
  });

  test("the last lines are not repeated when the log went to the terminal", async () => {
    const fake = fakeRay({ steps: [{ status: "RUNNING" }, { log: "boom\n" }, { status: "FAILED", exitCode: 1 }] });
    const h = harness({ logOnScreen: true });
    expect(await runJob(request(tree()), target(fake), client(fake), h.io)).toBe(1);
    expect(h.stderr.at(-1)).toMatch(/failed .*exited with code 1/);
    expect(h.stderr.join("\n")).not.toContain("  | boom");
  });

  test("a job that cannot start (no log) shows Ray's message", async () => {
    const fake = fakeRay({
      steps: [{ status: "FAILED", errorType: "RUNTIME_ENV_SETUP_FAILURE", message: "Failed to set up runtime environment.\nRuntimeError: pip failed" }],
    });
    const h = harness();
    expect(await runJob(request(tree()), target(fake), client(fake), h.io)).toBe(1);
    expect(h.stderr.slice(-2)).toEqual([
      "  | RuntimeError: pip failed",
      expect.stringMatching(/failed in [\d.]+s: Failed to set up runtime environment\. \(RUNTIME_ENV_SETUP_FAILURE\); see its whole log/),
    ]);
  });

  test("a job stopped by someone else exits 1", async () => {
    const fake = fakeRay({ steps: [{ status: "RUNNING" }, { log: "working\n" }, { status: "STOPPED" }] });
    const h = harness();
    expect(await runJob(request(tree()), target(fake), client(fake), h.io)).toBe(1);
    expect(h.stderr.at(-1)).toMatch(/^job raysubmit_\w+ was stopped on the cluster/);
  });

  test("Ctrl-C stops the job on the cluster (POST /stop) and exits 130", async () => {
    const fake = fakeRay({ steps: [{ status: "RUNNING" }, { log: "step 1\n" }, { waitMs: 5000, status: "SUCCEEDED" }] });
    let h: Harness;
    h = harness({ writeLog: (text) => (h.stdout.push(text), h.interrupt()) });
    const code = await runJob(request(tree()), target(fake), client(fake), h.io);
    expect(code).toBe(130);
    const id = fake.submitted()[0]!.submission_id;
    expect(fake.calls()).toContain(`POST /api/jobs/${id}/stop`);
    expect(fake.jobs.get(id!)!.status).toBe("STOPPED");
    expect(h.stderr).toContain(`stopping job ${id} (Ctrl-C again to stop waiting for it)`);
    expect(h.stderr.at(-1)).toBe(`job ${id} stopped`);
    expect(h.stdout.join("")).toBe("step 1\n");
    expect(fake.violations).toEqual([]);
  });

  test("a second Ctrl-C stops waiting, leaves the job to the cluster and says how to follow it", async () => {
    const fake = fakeRay({ ignoreStop: true, steps: [{ status: "RUNNING" }, { log: "step 1\n" }, { waitMs: 5000, status: "SUCCEEDED" }] });
    let presses = 0;
    let h: Harness;
    h = harness({
      writeLog: (text) => h.stdout.push(text),
      say: (line) => {
        h.stderr.push(line);
        if (line.startsWith("job ") && line.endsWith("RUNNING") && presses === 0) {
          presses++;
          h.interrupt();
          setTimeout(() => h.interrupt(), 30);
        }
      },
    });
    const code = await runJob(request(tree()), target(fake), client(fake), h.io);
    const id = fake.submitted()[0]!.submission_id;
    expect(code).toBe(130);
    expect(h.stderr.at(-1)).toBe(
      `stopped waiting for job ${id}, which may still be running: follow it with cslr jobs logs ${id} -f, stop it with cslr jobs stop ${id}`,
    );
    expect(fake.jobs.get(id!)!.status).toBe("RUNNING");
  });

  test("Ctrl-C before the job is submitted cancels: nothing is submitted, exit 130", async () => {
    const fake = fakeRay();
    let h: Harness;
    h = harness({
      pack: (dir): WorkingDirPackage => {
        h.interrupt();
        return packWorkingDir(dir);
      },
    });
    expect(await runJob(request(tree()), target(fake), client(fake), h.io)).toBe(130);
    expect(fake.calls()).toEqual(["GET /api/version"]);
    expect(h.stderr).toEqual(["cancelled before the job was submitted"]);
  });

  test("the head vanishing mid-run ends the log with one clear line, exit 1", async () => {
    const fake = fakeRay({ steps: [{ status: "RUNNING" }, { log: "epoch 1\n" }, { waitMs: 30, vanish: true }] });
    const h = harness();
    expect(await runJob(request(tree()), target(fake), client(fake), h.io)).toBe(1);
    expect(h.stdout.join("")).toBe("epoch 1\n");
    const last = h.stderr.at(-1)!;
    expect(last).toMatch(
      new RegExp(
        `^lost the cluster while following job raysubmit_\\w+: the head at ${fake.url} stopped answering \\(.+\\); check it with cslr status, and once it is back see the job with cslr jobs logs raysubmit_\\w+$`,
      ),
    );
    expect(last).not.toContain("\n");
  });

  test("without the WebSocket (a proxy refusing upgrades) the log is polled and still printed once", async () => {
    const fake = fakeRay({
      refuseTail: true,
      steps: [{ status: "RUNNING" }, { log: "a\n" }, { waitMs: 30, log: "b\n" }, { waitMs: 30, log: "c\n" }, { status: "SUCCEEDED", exitCode: 0 }],
    });
    const h = harness();
    expect(await runJob(request(tree()), target(fake), client(fake), h.io)).toBe(0);
    expect(h.stdout.join("")).toBe("a\nb\nc\n");
    expect(fake.calls().filter((c) => c.endsWith("/logs")).length).toBeGreaterThan(1);
  });

  test("--detach prints the id and returns without following", async () => {
    const fake = fakeRay();
    const h = harness();
    expect(await runJob(request(tree(), { detach: true, namePrefix: "sweep-3" }), target(fake), client(fake), h.io)).toBe(0);
    expect(h.ids).toEqual([fake.submitted()[0]!.submission_id!]);
    expect(h.ids[0]).toMatch(/^sweep-3_\w{16}$/);
    expect(fake.calls().some((c) => c.includes("/logs"))).toBe(false);
  });

  test("with a token: sent as Authorization: Bearer on every request, the WebSocket included", async () => {
    const fake = fakeRay({ token: "s3cret" });
    expect(await runJob(request(tree()), target(fake, "s3cret"), client(fake, "s3cret"), harness().io)).toBe(0);
    expect(fake.requests.every((r) => r.headers.get("authorization") === "Bearer s3cret")).toBe(true);
    expect(fake.calls().some((c) => c.endsWith("/logs/tail"))).toBe(true);
  });

  test("without the token the cluster wants: one line, nothing uploaded", async () => {
    const fake = fakeRay({ token: "s3cret" });
    const run = runJob(request(tree()), target(fake), client(fake), harness().io);
    expect(run).rejects.toThrow(
      `Ray's Jobs API at ${fake.url} wants a token (HTTP 401): the cluster runs with RAY_AUTH_MODE=token; give cslr the cluster's Ray token`,
    );
    await run.catch(() => {});
    expect(fake.calls()).toEqual(["GET /api/version"]);
  });

  test("a head whose Jobs API does not answer: one line before anything is packed", async () => {
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const url = `http://127.0.0.1:${closed.port}`;
    closed.stop(true);
    let packed = false;
    const io = harness({ pack: (d) => ((packed = true), packWorkingDir(d)) }).io;
    const run = runJob(request(tree()), { url, projectName: "p" }, new JobsClient({ url }), io);
    expect(run).rejects.toThrow(
      new RegExp(`^Ray's Jobs API at ${url} does not answer \\(\\w+\\) while trying to read its version; check that the cluster is up with cslr status$`),
    );
    await run.catch(() => {});
    expect(packed).toBe(false);
  });

  test("the head refusing the job (HTTP 400 with a traceback) is its last line", async () => {
    const fake = fakeRay({
      override: (req, path) =>
        req.method === "POST" && path === "/api/jobs/"
          ? new Response("Traceback (most recent call last):\n  File x\nValueError: entrypoint_memory must be an integer\n", { status: 400 })
          : undefined,
    });
    const run = runJob(request(tree()), target(fake), client(fake), harness().io);
    expect(run).rejects.toThrow(
      /^the head at http:\/\/127\.0\.0\.1:\d+ refused to submit job raysubmit_\w+ \(HTTP 400: ValueError: entrypoint_memory must be an integer\)$/,
    );
    await run.catch(() => {});
  });

  test("a head whose dashboard agent is not up yet (Ray's 500 'No available agent…, try again later'): the same job is submitted again and runs", async () => {
    let refusals = 2;
    const fake = fakeRay({
      override: (req, path) =>
        req.method === "POST" && path === "/api/jobs/" && refusals-- > 0
          ? new Response("No available agent to submit job, please try again later.", { status: 500 })
          : undefined,
    });
    const h = harness({ follow: { watchdogMs: 20, graceMs: 30, pollMs: 10, retryMs: 5, maxFailures: 3, sleep: async () => {} } });
    expect(await runJob(request(tree()), target(fake), client(fake), h.io)).toBe(0);
    expect(fake.submitted()).toHaveLength(1);
    expect(h.stderr.filter((l) => l.includes("dashboard agent is not ready yet"))).toHaveLength(2);
  });

  test("…but not for ever, and not for other 500s: the head's own message ends the run", async () => {
    let clock = 0;
    const fake = fakeRay({
      override: (req, path) =>
        req.method === "POST" && path === "/api/jobs/" ? new Response("No available agent to submit job, please try again later.", { status: 500 }) : undefined,
    });
    const io = harness({ follow: { sleep: async (ms: number) => void (clock += ms), now: () => clock } }).io;
    await expect(runJob(request(tree()), target(fake), client(fake), io)).rejects.toThrow(/HTTP 500: No available agent to submit job/);
    expect(clock).toBeGreaterThanOrEqual(60_000);
    expect(clock).toBeLessThanOrEqual(62_000);
    const other = fakeRay({
      override: (req, path) => (req.method === "POST" && path === "/api/jobs/" ? new Response("Internal Server Error", { status: 500 }) : undefined),
    });
    const h = harness({ follow: { sleep: async () => {}, now: () => 0 } });
    await expect(runJob(request(tree()), target(other), client(other), h.io)).rejects.toThrow(/HTTP 500/);
    expect(h.stderr.filter((l) => l.includes("not ready yet"))).toEqual([]);
  });
});

describe("cslr run: where the driver runs (so it outlives the head)", () => {
  const headId = "a".repeat(56);
  const workerId = "b".repeat(56);
  const done = [{ status: "RUNNING" as const }, { status: "SUCCEEDED" as const, exitCode: 0 }];

  test("another node alive: the driver may run anywhere but on the head (Ray's node-id label, negated)", async () => {
    const fake = fakeRay({
      steps: done,
      nodes: [
        { nodeId: headId, isHeadNode: true, state: "ALIVE" },
        { nodeId: workerId, isHeadNode: false, state: "ALIVE" },
      ],
    });
    expect(await runJob(request(tree()), target(fake), client(fake), harness().io)).toBe(0);
    expect(fake.violations).toEqual([]);
    expect(fake.submitted()[0]!.entrypoint_label_selector).toEqual({ "ray.io/node-id": `!${headId}` });
  });

  test("the head alone (or only dead workers): Ray's default, the head", async () => {
    const fake = fakeRay({
      steps: done,
      nodes: [
        { nodeId: headId, isHeadNode: true, state: "ALIVE" },
        { nodeId: workerId, isHeadNode: false, state: "DEAD" },
      ],
    });
    expect(await runJob(request(tree()), target(fake), client(fake), harness().io)).toBe(0);
    expect(fake.submitted()[0]!.entrypoint_label_selector).toBeUndefined();
  });

  test("a job asking for entrypoint resources is placed by them, not kept off the head (its GPU may be the head's)", async () => {
    const fake = fakeRay({
      steps: done,
      nodes: [
        { nodeId: headId, isHeadNode: true, state: "ALIVE" },
        { nodeId: workerId, isHeadNode: false, state: "ALIVE" },
      ],
    });
    expect(await runJob(request(tree(), { gpus: 1 }), target(fake), client(fake), harness().io)).toBe(0);
    expect(fake.submitted()[0]!.entrypoint_label_selector).toBeUndefined();
    expect(fake.calls()).not.toContain("GET /nodes");
  });
});
