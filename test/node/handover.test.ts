/**
 * `cslr handover` with real processes: the real election service, real node agents started
 * through ray-ep.sh, the stand-in `ray`. The lease TTL is 30 s (the default): a head that
 * only changed hands when its lease ran out would not be ready within the 20 s waits below,
 * so passing shows the head moved on the release, not on the TTL.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { handOver } from "../../src/election/handover.ts";
import { until } from "../helpers/until.ts";
import { Harness } from "./harness.ts";

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

describe("cslr handover (real agents, stand-in Ray)", () => {
  test("the head steps down to the named node; the old head follows it as a worker without restarting", async () => {
    harness = await new Harness({ nodes: 3, leaseTtl: 30 }).prepare();
    await harness.startServer();
    for (let i = 0; i < 3; i++) harness.startNode(i);
    const before = await harness.formed(2);
    const oldHead = before.head!.node;
    const successor = ["node1", "node2", "node3"].find((n) => n !== oldHead)!;

    const outcome = await handOver({ url: harness.url, token: "open-service", to: successor, timeoutMs: 20_000 });
    if (!outcome.ok) throw new Error(`${outcome.reason}\n${harness.transcript()}`);
    console.log(`[time] handover ${oldHead} → ${successor}: new head ready after ${outcome.value.tookMs} ms (TTL 30 s)`);
    expect(outcome.value).toMatchObject({ from: oldHead, to: successor, oldTerm: before.head!.term, newTerm: before.head!.term + 1 });

    const after = await harness.formed(2);
    expect(after.head!.node).toBe(successor);
    expect(after.workers.map((w) => w.node)).toContain(oldHead);
    // The old head's agent went on in the same process: stepped down, released, joined.
    const old = harness.nodes.get(oldHead)!;
    expect(await old.running()).toBe(true);
    expect(old.output).toContain("asked to hand the head over");
    expect(await harness.dataPlaneMatches(after)).toHaveLength(3);
  }, 120_000);

  test("no named node: any other whitelisted node takes over; a node not whitelisted is refused with the reason", async () => {
    harness = await new Harness({ nodes: 3, leaseTtl: 30, whitelist: ["node1", "node2"] }).prepare();
    await harness.startServer();
    for (let i = 0; i < 3; i++) harness.startNode(i);
    const before = await harness.formed(2);
    const refused = await handOver({ url: harness.url, token: "open-service", to: "node3", timeoutMs: 5_000 });
    expect(refused).toEqual({ ok: false, reason: "the election service refused the handover: node3 is not whitelisted; expected a node of head_whitelist" });

    const outcome = await handOver({ url: harness.url, token: "open-service", to: null, timeoutMs: 20_000 });
    if (!outcome.ok) throw new Error(`${outcome.reason}\n${harness.transcript()}`);
    expect(outcome.value.to).not.toBe(before.head!.node);
    expect(["node1", "node2"]).toContain(outcome.value.to);
    await until("everyone joined the new head", async () => (await harness!.formed(2)).head!.node === outcome.value.to);
  }, 120_000);
});
