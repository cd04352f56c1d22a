/**
 * Issue 16 with real Ray 2.60: the cluster outlives its head. One workstation, ray-cpu and
 * ray-gpu whitelisted (ray-gpu on the CPU image, its device reservation dropped), one worker
 * replica, the stack's Redis as the GCS store. `cslr run` a job of 200 tasks that also makes a
 * detached restartable actor, its driver on the replica; `docker kill` the head's container
 * mid-job. Then: the other whitelisted node is head, the job ends SUCCEEDED with every result,
 * the replica's Ray node id is unchanged (its raylet never restarted), the actor answers,
 * `cslr jobs` still lists the job, and, sampled every 100 ms, never two GCS ports answering.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dial } from "../../src/host/ports.ts";
import { describeE2E } from "./lib/engine.ts";
import { currentWorkers, expectOk, Stack, type RosterLike } from "./lib/stack.ts";

const job = `
import ray, time
ray.init()
@ray.remote(max_restarts=-1, max_task_retries=-1, num_cpus=0)
class Keeper:
    def __init__(self):
        self.n = 0
    def ping(self):
        self.n += 1
        return self.n
keeper = Keeper.options(name="keeper", namespace="failover", lifetime="detached").remote()
print("keeper", ray.get(keeper.ping.remote()), flush=True)
@ray.remote(max_retries=-1)
def square(i):
    time.sleep(0.25)
    return i * i
out = []
for batch in range(25):
    out += ray.get([square.remote(batch * 8 + j) for j in range(8)])
    print("batch", batch, flush=True)
print("DONE", len(out), sum(out) == sum(i * i for i in range(200)), flush=True)
`;

class FailoverStack extends Stack {
  override config(): Record<string, unknown> {
    const config = super.config() as { services: Record<string, unknown> };
    config.services.mlflow = { enabled: false, tracking_uri: Stack.outsideMlflow, postgres: { enabled: false } };
    config.services.marimo = { enabled: false };
    return config;
  }
}

/** The GCS port of a Ray node, dialled at its container's own address (a published port would answer through docker-proxy). */
async function gcsAnswers(stack: Stack, service: string, port: number): Promise<boolean> {
  const address = stack.containerAddress(service);
  return address !== undefined && (await dial(address, port, 200)).reachable;
}

describeE2E("e2e: real Ray, the cluster outlives its head (GCS on Redis)", () => {
  let stack: FailoverStack;
  const ready = (r: RosterLike | undefined) => (r?.head?.ready && currentWorkers(r).length === 2 ? r : undefined);

  beforeAll(async () => {
    stack = new FailoverStack({ label: "failover", whitelist: ["ray-cpu", "ray-gpu"], gpu: true, workers: 1, redis: true, leaseTtl: 12, real: true });
    expectOk(await stack.init(), "cslr init");
    // The two head candidates get four times the default CPU weight: in a lab each is a
    // workstation of its own, here all nodes share two cores, and while the replica's raylet
    // restarts the job's actor and tasks, Python's imports in the new head's dashboard agent ran
    // past the raylet's fixed 15 s wait for the agent's port files (Ray 2.60; the raylet aborts
    // and the head start fails: "Timed out waiting for file …/dashboard_agent_listen_port_…").
    const weight = "    cpu_shares: 4096\n";
    writeFileSync(join(stack.dir, "compose.override.yaml"), `services:\n  ray-gpu:\n    deploy: !reset null\n${weight}  ray-cpu:\n${weight}`);
    mkdirSync(join(stack.dir, "work"));
    writeFileSync(join(stack.dir, "work", "survive.py"), job);
  }, 180_000);
  afterAll(async () => {
    await stack?.destroy();
  }, 180_000);

  test("docker kill of the head mid-job: a new head takes the cluster over, and the job, the replica and the actor survive", async () => {
    expectOk(await stack.cli(["up", "-d", "--wait"], 400_000), "cslr up -d --wait");
    const before = await stack.waitFor("a head with three nodes in its ray status", 400_000, async () => {
      const roster = ready(await stack.roster());
      return roster && (await stack.rayActiveNodes(roster.head!.node)).length === 3 ? roster : undefined;
    });
    const oldHead = before.head!.node;
    const newHead = oldHead === "ray-cpu" ? "ray-gpu" : "ray-cpu";
    const replicaId = (await stack.rayNodeId("ray-worker-1"))!;
    expect(replicaId).toMatch(/^[0-9a-f]{56}$/);

    const submitted = await stack.cli(["run", "--detach", "--", "python", "survive.py"], 300_000, join(stack.dir, "work"));
    expectOk(submitted, "cslr run --detach");
    const id = /raysubmit_[A-Za-z0-9]+/.exec(submitted.stdout)?.[0];
    expect(id).toBeDefined();
    await stack.waitFor("the job running its batches", 300_000, async () => ((await stack.jobLog(id!)).includes("batch 2") ? true : undefined));
    // The driver runs on the replica, which is never head.
    expect(await stack.jobDriverNode(id!)).toBe(replicaId);

    // Two GCS ports answering at once would be a split: sampled every 100 ms from the kill on.
    const ports = { "ray-cpu": stack.ports.cpu.head, "ray-gpu": stack.ports.gpu.head };
    let both = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [a, b] = await Promise.all([gcsAnswers(stack, "ray-cpu", ports["ray-cpu"]), gcsAnswers(stack, "ray-gpu", ports["ray-gpu"])]);
        if (a && b) both++;
        await Bun.sleep(100);
      }
    })();
    const killedAt = performance.now();
    expectOk(await stack.docker(["kill", stack.container(oldHead).id]), `docker kill ${oldHead}`);
    const after = await stack
      .waitFor(`${newHead} head`, 300_000, async () => {
        const roster = await stack.roster();
        return roster?.head?.ready && roster.head.node === newHead ? roster : undefined;
      })
      .catch(async (error) => {
        // Say why: what the node that should be head and its Ray print.
        throw new Error(`${(error as Error).message}\n${await stack.rayNodeReport(newHead)}`);
      });
    console.log(
      `[time] real Ray, docker kill of the head → ${newHead} ready (term ${after.head!.term}): ${((performance.now() - killedAt) / 1000).toFixed(1)} s`,
    );

    const end = await stack.waitFor("the job's end", 400_000, async () => {
      const status = await stack.jobStatus(id!);
      return status && ["SUCCEEDED", "FAILED", "STOPPED"].includes(status) ? status : undefined;
    });
    sampling = false;
    await sampler;
    const log = await stack.jobLog(id!);
    expect(end, log.slice(-2000)).toBe("SUCCEEDED");
    expect(log).toContain("DONE 200 True");
    expect(both).toBe(0);
    // The replica's raylet never restarted: the same node id, alive under the new head.
    expect(await stack.rayNodeId("ray-worker-1")).toBe(replicaId);
    // The detached actor answers (restarted if it lived on the killed head).
    const ping = await stack.rayExec(
      "ray-worker-1",
      ["python", "-c", 'import ray; ray.init(address="auto"); print("PING", ray.get(ray.get_actor("keeper", namespace="failover").ping.remote()))'],
      180_000,
      "ray",
    );
    expect(ping.stdout, ping.stderr.slice(-2000)).toMatch(/PING \d+/);
    // The Jobs API of the new head still lists the job submitted before the head changed.
    const jobs = await stack.cli(["jobs"], 60_000);
    expectOk(jobs, "cslr jobs");
    expect(jobs.stdout).toContain(id!);
    // Ray takes Redis's `ray` password only on the head's command line (docs/security.md): the new
    // head's container shows it, no other container does.
    const password = stack.env().get("RAY_REDIS_PASSWORD")!;
    const showing: string[] = [];
    for (const c of stack.containers().filter((x) => x.status === "running")) {
      const argv = await stack.docker(["exec", c.id, "sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '"]);
      if (argv.stdout.includes(password)) showing.push(c.service);
    }
    expect(showing).toEqual([newHead]);
  }, 1_500_000);
});
