/**
 * The real stack (issue 13): real Ray at cslr's pinned version, MLflow on PostgreSQL, Marimo,
 * all from the local images built from PyPI and Debian's packages.
 *
 * ray-cpu and ray-gpu are whitelisted (ray-gpu's GPU reservation dropped by a
 * compose.override.yaml: this machine has none; Ray takes `--num-gpus=1` as declared), plus one
 * worker replica: one head and two workers. In order: bring-up with `ray status` listing three
 * nodes, `cslr test` through its real-Ray path, `cslr run` / `cslr jobs` (the scenarios the
 * stand-in suite runs too, then a job spreading Ray tasks over all nodes and one logging to
 * MLflow through its artifacts proxy, read back over MLflow's REST API), Marimo's token, the
 * head's container killed (the other whitelisted node takes over, a task runs after), and
 * `cslr down` + `up` keeping MLflow's runs.
 *
 * Peak memory of the stack's containers is sampled with `docker stats` and printed at the end.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeE2E } from "./lib/engine.ts";
import { readmeExample, readmeMlflowRun } from "./lib/readme.ts";
import { RunningCli, runScenarios } from "./lib/run-scenarios.ts";
import { currentWorkers, expectOk, runCommand, Stack, type RosterLike } from "./lib/stack.ts";

const leaseTtl = 6;

/** Sums the stack's containers' memory every few seconds; the peak is printed at the end. */
class MemorySampler {
  peakMiB = 0;
  private running = true;
  private readonly loop: Promise<void>;

  constructor(project: string) {
    this.loop = (async () => {
      while (this.running) {
        const stats = await runCommand(["docker", "stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}"], { timeoutMs: 30_000 });
        const total = stats.stdout
          .split("\n")
          .filter((line) => line.startsWith(`${project}-`))
          .reduce((sum, line) => sum + toMiB(/ ([\d.]+)([KMG]i?B) \//.exec(line)), 0);
        this.peakMiB = Math.max(this.peakMiB, total);
        await Bun.sleep(3_000);
      }
    })();
  }

  async stop(): Promise<number> {
    this.running = false;
    await this.loop;
    return this.peakMiB;
  }
}

function toMiB(match: RegExpExecArray | null): number {
  if (!match) return 0;
  const value = Number(match[1]);
  const unit = match[2]!.replace("i", "");
  return unit === "GB" ? value * 1024 : unit === "MB" ? value : value / 1024;
}

describeE2E(
  "e2e: the real stack (Ray, MLflow on PostgreSQL, Marimo)",
  () => {
    let stack: Stack;
    let memory: MemorySampler | undefined;
    const started = Date.now();

    beforeAll(async () => {
      stack = new Stack({ label: "real", whitelist: ["ray-cpu", "ray-gpu"], gpu: true, workers: 1, leaseTtl, real: true });
      expectOk(await stack.init(), "cslr init");
      writeFileSync(join(stack.dir, "compose.override.yaml"), "services:\n  ray-gpu:\n    deploy: !reset null\n");
    }, 180_000);
    afterAll(async () => {
      const peak = await memory?.stop();
      if (peak !== undefined) console.log(`real stack: peak memory of its containers ${Math.round(peak)} MiB (docker stats, sampled every ~3 s)`);
      console.log(`real stack: suite took ${Math.round((Date.now() - started) / 1000)} s`);
      await stack?.destroy();
    }, 180_000);

    const ready = (r: RosterLike | undefined) => (r?.head && currentWorkers(r).length === 2 ? r : undefined);

    test("up -d --wait: one head, two workers; `ray status` in the head lists three active nodes", async () => {
      expectOk(await stack.cli(["up", "-d", "--wait"], 420_000), "cslr up -d --wait");
      memory = new MemorySampler(stack.project);
      const roster = await stack.waitFor("one head and two workers", 60_000, async () => ready(await stack.roster()));
      expect(["ray-cpu", "ray-gpu"]).toContain(roster.head!.node);
      const active = await stack.waitFor("three nodes in ray status", 60_000, async () => {
        const nodes = await stack.rayActiveNodes(roster.head!.node);
        return nodes.length === 3 ? nodes : undefined;
      });
      expect(new Set(active).size).toBe(3);
    }, 480_000);

    test("`cslr test`: a Ray client and a worker from an isolated network join the real cluster", async () => {
      const result = await stack.cli(["test"], 300_000);
      const lines = result.stdout.split("\n").filter((l) => /^[✓✗]/.test(l));
      expect({ code: result.code, lines }).toEqual({ code: 0, lines: lines.filter((l) => l.startsWith("✓")) });
      expect(lines.length).toBeGreaterThanOrEqual(4);
      expect(stack.containers(`${stack.project}-test`)).toEqual([]);
    }, 330_000);

    runScenarios({ stack: () => stack, trackingUri: () => `http://mlflow:${stack.ports.mlflow}` });

    test("a job's Ray tasks spread over the head and both workers", async () => {
      const dir = join(stack.dir, "spread");
      mkdirSync(dir);
      writeFileSync(
        join(dir, "spread.py"),
        `import socket, time, ray
ray.init()
@ray.remote(num_cpus=1, scheduling_strategy="SPREAD")
def where():
    time.sleep(1)
    return ray.get_runtime_context().get_node_id()
nodes = set(ray.get([where.remote() for _ in range(6)]))
print("distinct nodes:", len(nodes), flush=True)
`,
      );
      const run = new RunningCli(dir, ["run", "--", "python", "spread.py"]);
      expect(await run.exited).toBe(0);
      expect(run.stdout).toContain("distinct nodes: 3");
    }, 300_000);

    test("the README's example, verbatim: Ray tasks, then a parameter, a metric and an artifact in MLflow, read back over its REST API", async () => {
      const dir = join(stack.dir, "readme-example");
      mkdirSync(dir);
      writeFileSync(join(dir, "train.py"), readmeExample());
      const run = new RunningCli(dir, ["run", "--", "python", "train.py"]);
      expect({ code: await run.exited, stdout: run.stdout }).toEqual({ code: 0, stdout: expect.stringContaining("sum of squares: 285") });
      expect(await mlflowRun(stack)).toEqual({ param: "10", metric: 285, artifact: "285\n" });
    }, 300_000);

    test("Marimo answers its API only with the token from .env", async () => {
      const token = stack.env().get("MARIMO_TOKEN")!;
      const url = `http://127.0.0.1:${stack.ports.marimo}/api/status`;
      const status = async (headers: Record<string, string>) => (await fetch(url, { headers, redirect: "manual" })).status;
      expect(await status({})).toBe(401);
      expect(await status({ authorization: "Bearer not-the-token" })).toBe(401);
      expect(await status({ authorization: `Bearer ${token}` })).toBe(200);
    }, 60_000);

    test("no secret from .env in any process's command line, in any container (but Redis's ray password on the head)", async () => {
      const secrets = [...stack.env().entries()].filter(([, value]) => value.length >= 8);
      expect(secrets.map(([name]) => name).sort()).toEqual([
        "CSLR_CLUSTER_TOKEN",
        "MARIMO_TOKEN",
        "POSTGRES_PASSWORD",
        "RAY_AUTH_TOKEN",
        "RAY_REDIS_PASSWORD",
        "REDIS_PASSWORD",
      ]);
      // Ray 2.60 takes the GCS's Redis password only on the head's command line (docs/security.md):
      // there and nowhere else; the workers' Ray never gets it.
      const head = (await stack.roster())?.head?.node;
      const leaks: string[] = [];
      let onHead = false;
      for (const c of stack.containers().filter((x) => x.status === "running")) {
        const argv = await runCommand(["docker", "exec", c.id, "sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '"]);
        expect({ container: c.service, code: argv.code }).toEqual({ container: c.service, code: 0 });
        for (const [name, value] of secrets) {
          if (!argv.stdout.includes(value)) continue;
          if (name === "RAY_REDIS_PASSWORD" && c.service === head) onHead = true;
          else leaks.push(`${name} in ${c.service}`);
        }
      }
      expect(leaks).toEqual([]);
      // This stack runs no Redis, so its heads keep the GCS in memory: the password is on no command line.
      expect(onHead).toBe(stack.options.redis === true);
    }, 120_000);

    test("the head's container killed: the other whitelisted node takes over, the workers follow, a task runs", async () => {
      const before = await stack.waitFor("a steady cluster", 60_000, async () => ready(await stack.roster()));
      const oldHead = before.head!.node;
      const newHead = oldHead === "ray-cpu" ? "ray-gpu" : "ray-cpu";
      // `docker kill` is a manual stop to Docker 20.10: the restart policy leaves the container down.
      expect((await runCommand(["docker", "kill", stack.container(oldHead).id])).code).toBe(0);

      const heads = new Map<number, string>();
      const after = await stack.waitFor(`${newHead} elected`, (leaseTtl + 3) * 1000 + 60_000, async () => {
        const r = await stack.roster();
        if (r?.head) heads.set(r.head.term, r.head.node);
        return r?.head?.node === newHead && r.head.ready ? r : undefined;
      });
      expect(after.head!.term).toBeGreaterThan(before.head!.term);
      // The new head and the worker replica, in Ray's own view.
      await stack.waitFor("two nodes in the new head's ray status", 120_000, async () =>
        (await stack.rayActiveNodes(newHead)).length === 2 ? true : undefined,
      );

      // The old head's container back: it joins the new head as a worker.
      expect((await runCommand(["docker", "start", stack.container(oldHead).id])).code).toBe(0);
      await stack.waitFor("three nodes again", 180_000, async () => ((await stack.rayActiveNodes(newHead)).length === 3 ? true : undefined));
      const roster = await stack.roster();
      expect(roster?.head?.node).toBe(newHead);
      expect(
        currentWorkers(roster!)
          .map((w) => w.node)
          .sort(),
      ).toEqual([oldHead, "ray-worker-1"].sort());
      for (const [term, node] of heads) expect(term <= before.head!.term || node === newHead).toBe(true);

      const task = await stack.rayExec(
        newHead,
        ["python", "-c", "import ray; ray.init(); print('task says', ray.get(ray.remote(lambda: 6 * 7).remote()))"],
        120_000,
      );
      expect({ code: task.code, out: task.stdout }).toEqual({ code: 0, out: expect.stringContaining("task says 42") });
    }, 480_000);

    test("MLflow's runs survive `cslr down` and `cslr up`", async () => {
      expectOk(await stack.cli(["down"], 180_000), "cslr down");
      expect(stack.containers()).toEqual([]);
      expectOk(await stack.cli(["up", "-d", "--wait"], 420_000), "cslr up -d --wait (again)");
      expect(await mlflowRun(stack)).toEqual({ param: "10", metric: 285, artifact: "285\n" });
    }, 660_000);
  },
  { real: true },
);

/** The README example's run in the project's experiment (this stack's MLflow on its published port). */
async function mlflowRun(stack: Stack): Promise<{ param?: string; metric?: number; artifact: string }> {
  const { param, metric, artifact } = await readmeMlflowRun(`http://127.0.0.1:${stack.ports.mlflow}`, stack.project);
  return { param, metric, artifact };
}
