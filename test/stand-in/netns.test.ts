/**
 * The stand-in across simulated hosts: two network namespaces joined by a veth pair (needs root
 * and iproute2; skipped with a visible message otherwise). This is where Ray clusters break in
 * practice: a worker advertises an address the head cannot dial back (a container address
 * behind another host's Docker bridge), or a firewall cuts the head off from a worker's node
 * manager port. The head must declare such a worker dead and the worker must exit non-zero.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { until } from "../helpers/until.ts";
import { headArgs, Kit, netnsUnavailable, TwoHosts, workerArgs } from "./testkit.ts";

const unavailable = netnsUnavailable();
if (unavailable) console.warn(`stand-in netns tests SKIPPED: ${unavailable}`);

let kit: Kit | undefined;
let hosts: TwoHosts | undefined;

afterEach(async () => {
  await kit?.cleanup();
  hosts?.cleanup();
  kit = undefined;
  hosts = undefined;
});

/** Fast health checks so a dead node shows within about a second. */
const fastChecks = {
  RAY_health_check_initial_delay_ms: "300",
  RAY_health_check_period_ms: "300",
  RAY_health_check_timeout_ms: "500",
  RAY_health_check_failure_threshold: "3",
};

async function twoHostCluster() {
  kit = new Kit();
  hosts = new TwoHosts();
  hosts.setup();
  const head = headArgs([`--node-ip-address=${hosts.addrA}`]);
  const h = kit.ray("head-a", head.args, fastChecks, hosts.exec(hosts.a));
  await h.waitFor(/listening on/);
  return { kit, hosts, h, address: `${hosts.addrA}:${head.port}` };
}

describe.skipIf(unavailable !== undefined)("two hosts (network namespaces)", () => {
  test("a worker on host B joins the head on host A, advertising its route's source address, and stays alive", async () => {
    const { kit, hosts, h, address } = await twoHostCluster();
    const w = kit.ray("worker-b", workerArgs(address), {}, hosts.exec(hosts.b));
    await w.waitFor(new RegExp(`node IP ${hosts.addrB.replace(/\./g, "\\.")} \\(source address of this host's route to the head`));
    await w.waitFor(/registered with/);
    const nodes = await kit.statusLists(address, ["head-a", "worker-b"], hosts.exec(hosts.b));
    expect(nodes.find((n) => n.name === "worker-b")!.address).toStartWith(`${hosts.addrB}:`);
    expect(nodes.find((n) => n.name === "head-a")!.address).toStartWith(`${hosts.addrA}:`);
    // The head dials B back every 300 ms: wait for 5 successful checks, none may fail.
    await until("5 successful health checks of worker-b", async () => {
      const { nodes } = await kit.status(address, hosts.exec(hosts.a));
      return Number(/health_checks_ok=(\d+)/.exec(nodes.find((n) => n.name === "worker-b")?.line ?? "")?.[1] ?? 0) >= 5;
    });
    expect(h.output).not.toContain("GCS health check failed");
    expect(w.exitCode).toBeUndefined();
  }, 30_000);

  test("a worker advertising an address the head cannot route to: GCS health check failed, dropped, the worker exits 1", async () => {
    const { kit, hosts, h, address } = await twoHostCluster();
    // The address exists on B (so B can bind it, as a bridge container has its own address)
    // but A has no route to it: the registration goes out fine, the dial-back cannot.
    const w = kit.ray("worker-b", workerArgs(address, [`--node-ip-address=${hosts.hiddenB}`]), {}, hosts.exec(hosts.b));
    await w.waitFor(/registered with/);
    const failed = await h.waitFor(new RegExp(`GCS health check failed for node worker-b at ${hosts.hiddenB.replace(/\./g, "\\.")}:\\d+: (\\S+)`));
    expect(failed[1]).toMatch(/^E[A-Z]+$/); // ENETUNREACH / EHOSTUNREACH from A's routing
    await h.waitFor(/node worker-b at \S+ marked dead/);
    expect(await w.exited).toBe(1);
    expect(w.output).toContain("the head marked node worker-b dead");
    expect(w.output).toContain(`advertised ${hosts.hiddenB}:`);
    await kit.statusLists(address, ["head-a"], hosts.exec(hosts.a));
  }, 30_000);

  test("a firewall cuts A off from B's node manager port after joining: dead within a few checks, the worker exits 1", async () => {
    const { kit, hosts, h, address } = await twoHostCluster();
    const w = kit.ray("worker-b", workerArgs(address), {}, hosts.exec(hosts.b));
    const advertised = await w.waitFor(/advertises [\d.]+:(\d+)\)/);
    await kit.statusLists(address, ["head-a", "worker-b"], hosts.exec(hosts.a));
    hosts.cutAtoB(Number(advertised[1]));
    await h.waitFor(/GCS health check failed for node worker-b at \S+: .*\(0 check\(s\) left\)/);
    await h.waitFor(/node worker-b at \S+ marked dead/);
    // The worker's own connection to the head still works: it is told, and exits like a raylet.
    expect(await w.exited).toBe(1);
    expect(w.output).toContain("the head marked node worker-b dead");
  }, 30_000);

  test("a worker on B given host A's address as --node-ip-address (a LAN address inside a bridge container) fails to start", async () => {
    const { kit, hosts, address } = await twoHostCluster();
    const w = kit.ray("worker-b", workerArgs(address, [`--node-ip-address=${hosts.addrA}`]), {}, hosts.exec(hosts.b));
    expect(await w.exited).toBe(1);
    expect(w.output).toContain(`${hosts.addrA} is not an address of this host (EADDRNOTAVAIL)`);
  }, 30_000);
});
