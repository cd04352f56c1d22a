/**
 * `cslr run` and `cslr jobs` against a running cluster's Jobs API, the same scenarios for the
 * stand-in and for real Ray (issue 12's e2e list): a small project with a .gitignore'd 50 MB
 * file runs from the uploaded copy without it, sees MLFLOW_TRACKING_URI, streams its log while
 * it runs, passes its exit code through; an unchanged directory uploads nothing; Ctrl-C stops
 * the job; `cslr jobs` lists them all.
 *
 * The jobs use nothing but python3's standard library, so the stand-in's image (Debian's
 * python3-minimal) runs them as real Ray's does.
 */
import { expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, runCommand, type Stack } from "./stack.ts";

/** A `cslr run` in progress: its output so far, lines awaited as they come, its exit. */
export class RunningCli {
  stdout = "";
  stderr = "";
  readonly exited: Promise<number>;
  private readonly proc: Bun.Subprocess<"ignore", "pipe", "pipe">;

  constructor(cwd: string, args: string[]) {
    this.proc = Bun.spawn(["bun", join(repoRoot, "src/cli.ts"), ...args], { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const pump = async (stream: ReadableStream<Uint8Array>, into: "stdout" | "stderr") => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) this[into] += decoder.decode(chunk, { stream: true });
    };
    const pumped = Promise.all([pump(this.proc.stdout, "stdout"), pump(this.proc.stderr, "stderr")]);
    this.exited = pumped.then(() => this.proc.exited);
  }

  /** Resolves once `pattern` shows in stdout or stderr; rejects when the process ends first or time is up. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let done = false;
    void this.exited.then(() => (done = true));
    while (!pattern.test(this.stdout) && !pattern.test(this.stderr)) {
      if (done || Date.now() > deadline) {
        throw new Error(`no ${pattern} from cslr ${done ? "before it exited" : `within ${timeoutMs} ms`}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      }
      await Bun.sleep(100);
    }
  }

  signal(name: "SIGINT" | "SIGKILL"): void {
    this.proc.kill(name);
  }
}

/** The project the jobs run: three files, a .gitignore, and the 50 MB file it ignores. */
export function writeProject(dir: string): void {
  mkdirSync(join(dir, "lib"), { recursive: true });
  writeFileSync(join(dir, ".gitignore"), "big.bin\n");
  // Random bytes: had the ignore rule not held, the upload would be 50 MB, not a few kB.
  writeFileSync(join(dir, "big.bin"), randomBytes(50 * 1024 * 1024));
  writeFileSync(join(dir, "lib", "util.py"), "def greeting():\n    return 'hello from lib/util.py'\n");
  writeFileSync(join(dir, "config.json"), '{"steps": 2}\n');
  writeFileSync(
    join(dir, "train.py"),
    `import json, os, sys, time
from lib.util import greeting

files = sorted(os.path.join(root, f)[2:] for root, _, names in os.walk(".") for f in names)
print("files:", json.dumps(files), flush=True)
print("tracking:", os.environ.get("MLFLOW_TRACKING_URI", "<unset>"), flush=True)
print("experiment:", os.environ.get("MLFLOW_EXPERIMENT_NAME", "<unset>"), flush=True)
print(greeting(), flush=True)
# Live log: the job waits until the test has seen this line and touched the go file.
go = os.environ.get("GO_FILE")
if go:
    print("waiting for", go, flush=True)
    deadline = time.time() + 120
    while not os.path.exists(go):
        if time.time() > deadline:
            print("nobody saw the log in time", flush=True)
            sys.exit(3)
        time.sleep(0.1)
    print("go seen", flush=True)
code = int(os.environ.get("EXIT_CODE", "0"))
if code:
    print("failing on purpose with", code, flush=True)
sys.exit(code)
`,
  );
  writeFileSync(join(dir, "forever.py"), "import time\nprint('running until stopped', flush=True)\nwhile True:\n    time.sleep(1)\n");
}

export interface RunScenarioContext {
  stack: () => Stack;
  /** MLFLOW_TRACKING_URI the jobs should see ("<unset>" without MLflow). */
  trackingUri: () => string;
}

interface JobDetails {
  submission_id: string;
  status: string;
  entrypoint: string;
}

/** Registers the shared `cslr run` / `cslr jobs` scenarios in the current describe(). */
export function runScenarios(ctx: RunScenarioContext): void {
  const ids: string[] = [];
  const projectDir = () => join(ctx.stack().dir, "exp");
  const idFrom = (text: string) => /submitted job ([\w-]+)/.exec(text)?.[1];

  test("cslr run -- python3 train.py: the uploaded copy without the ignored file, MLflow's URI, the log live, exit 0", async () => {
    const stack = ctx.stack();
    writeProject(projectDir());
    const goFile = `/tmp/cslr-e2e-go-${Math.random().toString(36).slice(2)}`;
    const run = new RunningCli(projectDir(), ["run", "--env", `GO_FILE=${goFile}`, "--", "python3", "train.py"]);
    // The job cannot end before the test has read this line from cslr's output: the log streams.
    await run.waitFor(/waiting for \/tmp\/cslr-e2e-go-/, 180_000);
    // The driver runs where cslr run placed it (a node that is never head, when there is one): the file goes to every Ray node.
    const rayNodes = stack.containers().filter((c) => /^ray-(cpu|gpu|worker-\d+)$/.test(c.service) && c.status === "running");
    expect(rayNodes.length).toBeGreaterThan(0);
    for (const node of rayNodes) expect((await runCommand(["docker", "exec", node.id, "touch", goFile])).code).toBe(0);
    const code = await run.exited;
    expect({ code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.stringContaining("uploaded the working directory") });
    const files = JSON.parse(/^files: (.*)$/m.exec(run.stdout)![1]!) as string[];
    expect(files.filter((f) => !f.startsWith("__pycache__") && !f.includes("/__pycache__/"))).toEqual([
      ".gitignore",
      "config.json",
      "forever.py",
      "lib/util.py",
      "train.py",
    ]);
    expect(/^tracking: (.*)$/m.exec(run.stdout)?.[1]).toBe(ctx.trackingUri());
    expect(run.stdout).toContain(`experiment: ${stack.project}`);
    expect(run.stdout).toContain("hello from lib/util.py");
    expect(run.stdout).toContain("go seen");
    // The upload was small: the 50 MB of random bytes stayed home.
    expect(run.stderr).toContain("uploaded the working directory (5 files, 0.0 MiB → 0.0 MiB zip)");
    ids.push(idFrom(run.stderr)!);
  }, 300_000);

  test("an unchanged directory uploads nothing; a failing script exits 1 with its last lines", async () => {
    const run = new RunningCli(projectDir(), ["run", "--env", "EXIT_CODE=1", "--", "python3", "train.py"]);
    const code = await run.exited;
    expect(code).toBe(1);
    expect(run.stderr).toContain("working directory unchanged");
    expect(run.stderr).not.toContain("uploaded the working directory");
    expect(run.stdout + run.stderr).toContain("failing on purpose with 1");
    expect(run.stderr).toMatch(/^job \S+ failed in [\d.]+s: its command exited with code 1/m);
    ids.push(idFrom(run.stderr)!);
  }, 300_000);

  test("Ctrl-C stops the job on the cluster and exits 130", async () => {
    const run = new RunningCli(projectDir(), ["run", "--", "python3", "forever.py"]);
    await run.waitFor(/running until stopped/, 180_000);
    const id = idFrom(run.stderr)!;
    run.signal("SIGINT");
    expect(await run.exited).toBe(130);
    ids.push(id);
    const stack = ctx.stack();
    const status = await stack.waitFor(`job ${id} to be STOPPED`, 60_000, async () => {
      const listed = await stack.cli(["jobs", "--json"]);
      const job = (JSON.parse(listed.stdout || '{"jobs":[]}') as { jobs: JobDetails[] }).jobs.find((j) => j.submission_id === id);
      return job?.status === "STOPPED" ? job.status : undefined;
    });
    expect(status).toBe("STOPPED");
  }, 300_000);

  test("cslr jobs lists every job with its status; cslr jobs logs prints one", async () => {
    const stack = ctx.stack();
    const listed = await stack.cli(["jobs", "--json"]);
    expect(listed.code).toBe(0);
    const { jobs } = JSON.parse(listed.stdout) as { schemaVersion: 1; jobs: JobDetails[] };
    const mine = ids.map((id) => jobs.find((j) => j.submission_id === id)?.status);
    expect(mine).toEqual(["SUCCEEDED", "FAILED", "STOPPED"]);
    const table = await stack.cli(["jobs"]);
    expect(table.code).toBe(0);
    for (const id of ids) expect(table.stdout).toContain(id);
    const logs = await stack.cli(["jobs", "logs", ids[0]!]);
    expect({ code: logs.code, greeting: logs.stdout.includes("hello from lib/util.py") }).toEqual({ code: 0, greeting: true });
  }, 120_000);
}
