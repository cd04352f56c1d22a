/**
 * Several hosts, fast (no Docker): three network namespaces on one bridge (test/helpers/netns.ts),
 * the real election service on host a, one node agent (`cslr node` through the real
 * ray-ep.sh) with the stand-in `ray` on each host, addresses auto-detected. Nodes on b and c are
 * whitelisted, the coordinator's node is a worker only (a cut of the coordinator takes the
 * election with it; that case is documented, not tested here).
 *
 * - formation: one head, every node registered with it at its own host's address;
 * - the head's host cut off: it fences itself (its stand-in head stops) before the new head
 *   opens its port, by the stand-in heads' own timestamps; a new head within TTL + margin +
 *   start; healed, the old head comes back as a worker of the new one.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createLan, describeNetns, type Lan } from "../helpers/netns.ts";
import { until } from "../helpers/until.ts";
import { Harness, nodeName } from "./harness.ts";

const leaseTtl = 3;

/** Epoch ms of the stand-in head's own lines matching `pattern`. */
function stamps(output: string, pattern: RegExp): number[] {
  return output
    .split("\n")
    .filter((l) => pattern.test(l))
    .map((l) => Number(/ at (\d+)/.exec(l)?.[1]))
    .filter(Number.isFinite);
}

describeNetns("node agents on three hosts (network namespaces)", () => {
  let lan: Lan;
  let harness: Harness;

  beforeAll(async () => {
    lan = await createLan({ hosts: 3 });
    harness = await new Harness({ nodes: 3, leaseTtl, headDelayMs: 0, whitelist: [nodeName(1), nodeName(2)], hosts: lan.hosts }).prepare();
    await harness.startServer();
  }, 60_000);
  afterAll(async () => {
    await harness?.cleanup();
    await lan?.destroy();
  }, 60_000);

  const hostAddress = (node: string) => harness.hostOf(Number(node.replace("node", "")) - 1)!.address;

  test("one head; every node registered with it at its own host's address (auto-detected)", async () => {
    for (let i = 0; i < 3; i++) harness.startNode(i);
    const view = await harness.formed(2, 30_000);
    expect([nodeName(1), nodeName(2)]).toContain(view.head!.node);
    expect(view.head!.address).toBe(`${hostAddress(view.head!.node)}:${harness.headPort}`);
    for (const w of view.workers) expect({ node: w.node, address: w.address }).toEqual({ node: w.node, address: hostAddress(w.node) });
    const registered = await (async () => {
      for (let i = 0; i < 100; i++) {
        const seen = await harness.rayAddresses(view.head!.address);
        if (seen.size === 3) return seen;
        await Bun.sleep(100);
      }
      return harness.rayAddresses(view.head!.address);
    })();
    expect(Object.fromEntries(registered)).toEqual(Object.fromEntries([0, 1, 2].map((i) => [nodeName(i), harness.hostOf(i)!.address])));
  }, 60_000);

  test("the head's host cut off: fenced before a new head starts, a new head within TTL + margin; healed, it is a worker", async () => {
    const before = await harness.formed(2, 30_000);
    const oldHead = before.head!.node;
    const index = Number(oldHead.replace("node", "")) - 1;
    const cutAt = Date.now();
    lan.partition(harness.hostOf(index)!);
    let after;
    try {
      after = await until(
        "a new ready head on another host",
        async () => {
          const view = await harness.cluster();
          return view.head?.ready && view.head.node !== oldHead ? view : undefined;
        },
        (leaseTtl + 3) * 1000 + 10_000,
      );
      expect(after.head!.term).toBeGreaterThan(before.head!.term);
    } finally {
      lan.heal();
    }
    const oldOutput = await until("the cut head to have stopped", async () =>
      (await harness.nodes.get(oldHead)!.running()) ? undefined : harness.nodes.get(oldHead)!.output,
    );
    const newOutput = harness.nodes.get(after.head!.node)!.output;
    const fenced = stamps(oldOutput, /head \S+ stopping on \w+ at/).find((t) => t > cutAt);
    const opened = stamps(newOutput, /head \S+ listening on .* at/).find((t) => t > cutAt);
    expect(fenced).toBeDefined();
    expect(opened).toBeDefined();
    expect(fenced!).toBeLessThan(opened!);
    // Bound: the lease expires, plus the grant margin, plus the head's start.
    expect(opened! - cutAt).toBeLessThan((leaseTtl + 3) * 1000 + 5_000);

    // The fenced agent exited non-zero; the container's restart policy starts it again.
    expect(await harness.nodes.get(oldHead)!.running()).toBe(false);
    harness.startNode(index);
    const healed = await harness.formed(2, 30_000);
    expect(healed.head!.node).toBe(after.head!.node);
    expect(healed.workers.filter((w) => w.term === healed.head!.term).map((w) => w.node)).toContain(oldHead);
  }, 90_000);
});
