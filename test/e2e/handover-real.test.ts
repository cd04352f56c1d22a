/**
 * Issue 16 with real Ray 2.60: ray-gpu can be head with its client port inside Ray's default
 * worker range (10002–19999: the default 10002 is one), because cslr pins the worker range;
 * and `cslr handover` moves the head between the two whitelisted nodes, the workers following.
 *
 * One workstation, no GPU: ray-gpu runs the CPU image with its device reservation dropped by
 * a compose.override.yaml. Sized down: one CPU per node, no MLflow or Marimo.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { portFree } from "../helpers/ports.ts";
import { describeE2E } from "./lib/engine.ts";
import { currentWorkers, expectOk, Stack, type RosterLike } from "./lib/stack.ts";

/** A free host port inside Ray's default worker range, where main's ray-gpu could never be head. */
function freePortInRaysDefaultRange(): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 12000 + Math.floor(Math.random() * 7000);
    if (portFree(port)) return port;
  }
  throw new Error("no free port in 12000–18999");
}

class RayOnlyStack extends Stack {
  readonly gpuClientPort = freePortInRaysDefaultRange();
  override config(): Record<string, unknown> {
    const config = super.config() as { services: Record<string, Record<string, unknown>> };
    const ray = config.services.ray as { gpu: Record<string, unknown> };
    ray.gpu.client_port = this.gpuClientPort;
    config.services.mlflow = { enabled: false, tracking_uri: Stack.outsideMlflow, postgres: { enabled: false } };
    config.services.marimo = { enabled: false };
    return config;
  }
}

describeE2E("e2e: real Ray, ray-gpu as head and cslr handover", () => {
  let stack: RayOnlyStack;
  const heads = new Set<string>();
  const ready = (r: RosterLike | undefined) => (r?.head?.ready && currentWorkers(r).length === 2 ? r : undefined);

  beforeAll(async () => {
    stack = new RayOnlyStack({ label: "handover", whitelist: ["ray-cpu", "ray-gpu"], gpu: true, workers: 1, leaseTtl: 30, real: true });
    expectOk(await stack.init(), "cslr init");
    writeFileSync(join(stack.dir, "compose.override.yaml"), "services:\n  ray-gpu:\n    deploy: !reset null\n");
  }, 180_000);
  afterAll(async () => {
    await stack?.destroy();
  }, 180_000);

  test("up: one head, two workers, three active nodes in Ray's own view", async () => {
    expectOk(await stack.cli(["up", "-d", "--wait"], 300_000), "cslr up -d --wait");
    // Real Ray's start takes from 20 s to minutes on a loaded 2-core machine; a head whose Ray
    // times out starting gives the lease up, so the head is read again on every poll.
    await stack.waitFor("a head with three nodes in its ray status", 300_000, async () => {
      const roster = ready(await stack.roster());
      if (!roster || (await stack.rayActiveNodes(roster.head!.node)).length !== 3) return undefined;
      heads.add(roster.head!.node);
      return true;
    });
  }, 600_000);

  test("cslr handover to the other whitelisted node: it is head, the old head and the replica follow it", async () => {
    const before = (await stack.roster())!;
    const target = before.head!.node === "ray-cpu" ? "ray-gpu" : "ray-cpu";
    const moved = await stack.cli(["handover", target, "--timeout", "300"], 330_000);
    expectOk(moved, `cslr handover ${target}`);
    const line = `${moved.stdout}\n${moved.stderr}`.split("\n").find((l) => l.includes("head moved from"));
    expect(line).toContain(`to ${target} (term ${before.head!.term + 1})`);
    console.log(`[time] real Ray, ${line?.trim()}`);
    const after = await stack.waitFor(`${target} head with both workers`, 300_000, async () => ready(await stack.roster()));
    expect(after.head!.node).toBe(target);
    heads.add(target);
    await stack.waitFor("three nodes in the new head's ray status", 300_000, async () =>
      (await stack.rayActiveNodes(target)).length === 3 ? true : undefined,
    );
    // ray-gpu, its client port inside Ray's default worker range, has been head in this stack.
    expect([...heads].sort()).toEqual(["ray-cpu", "ray-gpu"]);
  }, 900_000);
});
