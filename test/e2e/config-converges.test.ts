/**
 * Day two on a running stand-in stack (issue 11): the stack converges on the config without
 * churning the Ray nodes, and survives what happens to the downloaded binary.
 *   - a change to the election service (lease_ttl) recreates only the health container: the Ray
 *     containers keep running, and the head keeps its term;
 *   - Redis disabled in the config and `up -d` again: its container goes;
 *   - the binary the config names replaced in place, then deleted: the containers run cslr's
 *     own copy of it, so both succeed and a restart of every container still comes back.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeE2E } from "./lib/engine.ts";
import { currentWorkers, expectOk, runCommand, Stack, type RosterLike } from "./lib/stack.ts";

describeE2E("e2e: day two on a running stack", () => {
  let stack: Stack;
  const formed = (r: RosterLike | undefined) => (r?.head?.ready && currentWorkers(r).length === 1 ? r : undefined);
  const rayIds = () =>
    stack
      .containers()
      .filter((c) => c.service.startsWith("ray-") && c.service !== "ray-redis")
      .map((c) => `${c.service}:${c.id}`)
      .sort();

  beforeAll(async () => {
    stack = new Stack({ label: "daytwo", whitelist: ["ray-cpu"], gpu: false, workers: 1, redis: true, leaseTtl: 6 });
    expectOk(await stack.init(), "cslr init");
    // The config names a binary of its own, which this suite replaces and deletes.
    const own = join(stack.dir, "cslr-downloaded");
    copyFileSync(stack.binary, own);
    stack.binary = own;
    stack.writeConfig();
    expectOk(await stack.cli(["up", "-d", "--wait"], 240_000), "cslr up -d --wait");
  }, 300_000);
  afterAll(async () => {
    await stack?.destroy();
  }, 180_000);

  test("a change to the election service recreates only it: the Ray nodes keep running, the head keeps its term", async () => {
    const before = await stack.waitFor("a formed cluster", 60_000, async () => formed(await stack.roster()));
    const ray = rayIds();
    const health = stack.container("health").id;
    stack.options.leaseTtl = 7;
    stack.writeConfig();
    expectOk(await stack.cli(["up", "-d", "--wait"], 240_000), "cslr up -d --wait (lease_ttl changed)");
    expect(stack.container("health").id).not.toBe(health);
    expect(rayIds()).toEqual(ray);
    const after = await stack.waitFor("the cluster after the health change", 60_000, async () => formed(await stack.roster()));
    expect({ head: after.head!.node, term: after.head!.term }).toEqual({ head: before.head!.node, term: before.head!.term });
  }, 300_000);

  test("Redis disabled in the config: `up -d` removes its container", async () => {
    expect(stack.containers().some((c) => c.service === "ray-redis")).toBe(true);
    stack.options.redis = false;
    stack.writeConfig();
    expectOk(await stack.cli(["up", "-d"], 240_000), "cslr up -d (Redis off)");
    expect(stack.containers().map((c) => c.service)).not.toContain("ray-redis");
  }, 300_000);

  test("the downloaded binary replaced in place, then deleted: every container still restarts into cslr", async () => {
    // In place: with the file itself bind-mounted this failed with "Text file busy".
    writeFileSync(stack.binary, "#!/bin/sh\necho this is not cslr\nexit 127\n");
    rmSync(stack.binary);
    const ids = stack.containers().map((c) => c.id);
    const restarted = await runCommand(["docker", "restart", "--time", "5", ...ids], { timeoutMs: 120_000 });
    expect(restarted.code).toBe(0);
    await stack.waitFor("the cluster after restarting every container", 90_000, async () => formed(await stack.roster()));
    expect(stack.containers().every((c) => c.status === "running")).toBe(true);
    const status = await stack.cli(["status"]);
    expect(status.code).toBe(0);
  }, 300_000);
});
