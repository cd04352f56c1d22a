/**
 * Scenario tests with real processes: `cslr health serve` from source, the generated
 * entrypoint under bash, and the stand-in `ray`. No Docker needed.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Harness, headDecisions, headPort, nodeAddress, nodeName, until } from "./harness.ts";

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

function rosterNames(view: { head: { node: string } | null; workers: { node: string }[] }): string[] {
  return [`${view.head?.node}:head`, ...view.workers.map((w) => `${w.node}:worker`)].sort();
}

describe("entrypoint + election service", () => {
  test("8 whitelisted nodes started in the same instant, 50 rounds: one head, everyone joined it", async () => {
    const nodes = 8;
    const rounds = 50;
    harness = new Harness({ nodes, leaseTtl: 5, headDelayMs: 20 });
    await harness.startServer();
    for (let round = 1; round <= rounds; round++) {
      const procs = Array.from({ length: nodes }, (_, i) => harness!.startNode(i));
      const view = await harness.formed(nodes - 1).catch((error) => {
        throw new Error(`round ${round}: ${error.message}\n${harness!.transcript()}`);
      });
      // Terms only grow: one grant per round, as every round ends with a clean release.
      expect(view.head!.term).toBe(round);
      const members = await harness.dataPlaneMatches(view).catch((error) => {
        throw new Error(`round ${round}: ${error.message}\n${harness!.transcript()}`);
      });
      expect(members).toHaveLength(nodes);

      const codes = await harness.stopNodes();
      expect([...codes.values()]).toEqual(Array(nodes).fill(0));
      const heads = procs.filter((p) => headDecisions(p.output).length > 0).map((p) => p.name);
      expect(heads).toEqual([view.head!.node]);
      // The head released its lease on SIGTERM: the next round elects at once.
      expect((await harness.cluster()).head).toBeNull();
    }
  }, 600_000);

  test("the head killed: a new head within the TTL, term + 1; the old head comes back fenced", async () => {
    harness = new Harness({ nodes: 4, leaseTtl: 1.5 });
    await harness.startServer();
    for (let i = 0; i < 4; i++) harness.startNode(i);
    const before = await harness.formed(3);
    const oldHead = harness.nodes.get(before.head!.node)!;

    // Freeze the head (a hung container): its port stays bound, it cannot heartbeat.
    oldHead.signalGroup("SIGSTOP");
    const after = await until("a new head", async () => {
      const view = await harness!.cluster();
      return view.head?.ready && view.head.node !== before.head!.node ? view : undefined;
    });
    expect(after.head!.term).toBe(before.head!.term + 1);
    const formed = await harness.formed(2);
    expect(await harness.dataPlaneMatches(formed)).toEqual(rosterNames(formed));

    // The old head wakes up: its next heartbeat is refused (409), it stops Ray and exits 3.
    oldHead.signalGroup("SIGCONT");
    expect(await oldHead.exited).toBe(3);
    expect(oldHead.output).toContain("decision=fenced");
    const final = await harness.cluster();
    expect(final.head!.node).toBe(formed.head!.node);
    expect(final.head!.term).toBe(after.head!.term);
    // Its stand-in head is gone: nothing answers on the old head's port any more.
    const oldIndex = Number(before.head!.node.replace("node", "")) - 1;
    await until("the old head's port to close", async () => {
      try {
        const socket = await Bun.connect({ hostname: nodeAddress(oldIndex), port: headPort, socket: { data() {} } });
        socket.end();
        return false;
      } catch {
        return true;
      }
    });
  }, 60_000);

  test("the health service killed and restarted mid-run: still exactly one head", async () => {
    harness = new Harness({ nodes: 4, leaseTtl: 2 });
    await harness.startServer();
    for (let i = 0; i < 4; i++) harness.startNode(i);
    const before = await harness.formed(3);

    await harness.killServer();
    // Down for longer than a whole TTL: every heartbeat in between fails.
    await Bun.sleep(2_500);
    await harness.startServer();
    const restored = await harness.cluster();
    expect(restored.head!.node).toBe(before.head!.node);
    expect(restored.head!.term).toBe(before.head!.term);

    // Past a whole TTL after the restart: the head heartbeated, nobody was elected twice.
    await Bun.sleep(2_500);
    const view = await harness.formed(3);
    expect(view.head!.node).toBe(before.head!.node);
    expect(view.head!.term).toBe(before.head!.term);
    expect(await harness.dataPlaneMatches(view)).toEqual(rosterNames(view));
    const heads = [...harness.nodes.values()].filter((p) => headDecisions(p.output).length > 0);
    expect(heads.map((p) => p.name)).toEqual([before.head!.node]);
    expect(JSON.parse(readFileSync(harness.statePath, "utf8")).head.node).toBe(before.head!.node);
  }, 60_000);

  test("the election service down at start: only the first whitelisted node becomes head", async () => {
    harness = new Harness({ nodes: 4, healthTimeout: 1 });
    const procs = [3, 1, 2, 0].map((i) => harness!.startNode(i)); // the first one starts last
    const first = nodeName(0);
    const members = await until("the fallback cluster", async () => {
      const list = await harness!.rayMembers(`${nodeAddress(0)}:${headPort}`);
      return list.length === 4 ? list : undefined;
    });
    expect(members).toEqual([`${first}:head`, "node2:worker", "node3:worker", "node4:worker"]);
    const heads = procs.filter((p) => headDecisions(p.output).length > 0).map((p) => p.name);
    expect(heads).toEqual([first]);
    for (const p of procs) expect(p.output).toContain("decision=fallback");
  }, 60_000);

  test("an explicit HEAD_ADDRESS skips the election", async () => {
    harness = new Harness({ nodes: 2, healthTimeout: 1 });
    const head = harness.startNode(0, { HEAD_ADDRESS: `${nodeAddress(0)}:${headPort}`, CSLR_NODE_ADDRESS: nodeAddress(0) });
    const worker = harness.startNode(1, { HEAD_ADDRESS: `${nodeAddress(0)}:${headPort}` });
    const members = await until("the explicit cluster", async () => {
      const list = await harness!.rayMembers(`${nodeAddress(0)}:${headPort}`);
      return list.length === 2 ? list : undefined;
    });
    expect(members).toEqual(["node1:head", "node2:worker"]);
    expect(head.output).toContain("explicit head address");
    expect(worker.output).toContain("explicit head address; no election");
    expect(worker.output).not.toContain("decision=fallback");
  }, 30_000);

  test("with a cluster token: the cluster forms, and Ray's token auth gets it passed through", async () => {
    const token = "cluster-token-42";
    harness = new Harness({ nodes: 3, token });
    await harness.startServer();
    const procs = [0, 1, 2].map((i) => harness!.startNode(i, { RAY_AUTH_MODE: "token" }));
    const view = await harness.formed(2);
    await harness.dataPlaneMatches(view);
    for (const p of procs) {
      expect(p.output).toContain(`auth: RAY_AUTH_MODE=token, RAY_AUTH_TOKEN set (${token.length} chars)`);
      expect(p.output).not.toContain(token);
    }
  }, 30_000);

  test("a wrong token: the node refuses to guess (exit 2) instead of becoming head", async () => {
    harness = new Harness({ nodes: 2, token: "right-token" });
    await harness.startServer();
    const node = harness.startNode(0, { CSLR_CLUSTER_TOKEN: "wrong-token" });
    expect(await node.exited).toBe(2);
    expect(node.output).toContain("refused the token (401)");
    expect((await harness.cluster()).head).toBeNull();
  }, 30_000);
});
