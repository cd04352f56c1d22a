/**
 * The namespaced LAN harness (test/helpers/netns.ts), proven on real namespaces: reachability
 * at the hosts' addresses, partitions in both directions, heal, teardown that leaves nothing,
 * and cleanupStale() reaping the LAN of a killed process. Skipped visibly without root.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { type Lan, type NetnsHost, cleanupStale, createLan, describeNetns, elapsed, leftoversOf, log, prefixesOverlap } from "./netns.ts";

const port = 7000;

/** A Bun TCP server in `host` that greets with its hostname and the client's address, then closes. */
async function greeter(host: NetnsHost): Promise<void> {
  const script = `
    const name = require("node:os").hostname();
    Bun.listen({ hostname: "0.0.0.0", port: ${port}, socket: { open(s) { s.end("hello from " + name + " to " + s.remoteAddress + "\\n"); }, data() {} } });
    console.log("listening");`;
  const proc = host.spawn(["bun", "-e", script]);
  const reader = proc.stdout.getReader();
  const first = await Promise.race([reader.read(), Bun.sleep(10_000).then(() => undefined)]);
  reader.releaseLock();
  if (!first || first.done || !new TextDecoder().decode(first.value).includes("listening")) {
    throw new Error(`greeter in ${host.name} did not start: ${await new Response(proc.stderr).text()}`);
  }
}

describeNetns("netns teardown of a half-gone run", () => {
  test("destroy() copes with parts already removed by hand and leaves nothing", async () => {
    const lan = await createLan({ hosts: 2 });
    try {
      const gone = Bun.spawnSync(["sh", "-c", `ip netns del ${lan.lanNetns} && ip netns del ${lan.hosts[0]!.netns} && umount ${lan.hosts[1]!.utsPath}`]);
      expect(gone.exitCode).toBe(0);
    } finally {
      await lan.destroy();
    }
    expect(leftoversOf(lan.id)).toEqual([]);
  });
});

test("prefixesOverlap", () => {
  const rows: [string, string, boolean][] = [
    ["10.77.3.0/24", "10.77.3.0/24", true],
    ["10.77.3.1", "10.77.3.0/24", true],
    ["10.77.0.0/16", "10.77.200.0/24", true],
    ["10.77.4.0/24", "10.77.3.0/24", false],
    ["172.17.0.0/16", "10.77.3.0/24", false],
    ["0.0.0.0/0", "10.78.1.0/24", true],
  ];
  for (const [a, b, overlap] of rows) expect([a, b, prefixesOverlap(a, b)]).toEqual([a, b, overlap]);
});

describeNetns("netns LAN (3 hosts)", () => {
  let lan: Lan;
  let a: NetnsHost, b: NetnsHost, c: NetnsHost;

  beforeAll(async () => {
    await cleanupStale();
    lan = await createLan({ hosts: 3 });
    [a, b, c] = lan.hosts as [NetnsHost, NetnsHost, NetnsHost];
    await greeter(a);
    await greeter(c);
  });

  afterAll(async () => {
    await lan?.destroy();
  });

  test("each host has its address on eth0, loopback, a default route via the gateway and its own hostname", async () => {
    for (const host of lan.hosts) {
      const shown = await host.run(["sh", "-c", "ip -4 -o addr show; ip route show default; hostname"]);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toContain(`eth0    inet ${host.address}/24`);
      expect(shown.stdout).toContain("lo    inet 127.0.0.1/8");
      expect(shown.stdout).toContain(`default via ${lan.gateway} dev eth0`);
      expect(shown.stdout.trim().split("\n").at(-1)).toBe(host.hostname);
    }
    expect(new Set(lan.hosts.map((h) => h.address)).size).toBe(3);
  });

  test("a Bun TCP server in A answers C at A's address; the test process reaches it through the gateway", async () => {
    const fromC = await c.tcpRead(a.address, port);
    expect(fromC.error).toBe("");
    expect(fromC.text).toBe(`hello from ${a.hostname} to ${c.address}\n`);
    const fromRoot = await Bun.connect({ hostname: a.address, port, socket: { data() {} } });
    fromRoot.end();
  });

  test("partition(A) cuts A off in both directions within the bound; heal() restores it", async () => {
    lan.partition(a);
    const start = performance.now();
    const [cToA, aToC, bToC] = await Promise.all([c.tcpRead(a.address, port, 1500), a.tcpRead(c.address, port, 1500), b.tcpRead(c.address, port, 1500)]);
    log(`partition(A): C→A ${cToA.error || "ok"}, A→C ${aToC.error || "ok"}, B→C ${bToC.ok ? "ok" : bToC.error} (${elapsed(start)} ms)`);
    expect(cToA.ok).toBe(false);
    expect(cToA.error).toContain("timed out");
    expect(aToC.ok).toBe(false);
    expect(bToC.text).toBe(`hello from ${c.hostname} to ${b.address}\n`);

    lan.heal();
    const healed = await c.tcpRead(a.address, port);
    expect(healed.text).toBe(`hello from ${a.hostname} to ${c.address}\n`);
    expect((await a.tcpRead(c.address, port)).ok).toBe(true);
  });

  test("partition(A, B) cuts only A and B from each other", async () => {
    lan.partition(a, b);
    const [bToA, cToA, aToC] = await Promise.all([b.tcpRead(a.address, port, 1500), c.tcpRead(a.address, port, 1500), a.tcpRead(c.address, port, 1500)]);
    lan.heal();
    expect(bToA.ok).toBe(false);
    expect(cToA.ok).toBe(true);
    expect(aToC.ok).toBe(true);
    expect((await b.tcpRead(a.address, port)).ok).toBe(true);
  });

  test("cleanupStale() reaps the LAN of a killed process (and what it left running), not live ones", async () => {
    const netns = join(import.meta.dir, "netns.ts");
    const script = `
      const { createLan } = await import(${JSON.stringify(netns)});
      const lan = await createLan({ hosts: 2, log: () => {} });
      lan.hosts[0].spawn(["sleep", "600"]);
      await Bun.sleep(300);
      console.log(lan.id);
      await Bun.sleep(600_000);`;
    const child = Bun.spawn(["bun", "-e", script], { stdout: "pipe", stderr: "pipe" });
    const reader = child.stdout.getReader();
    const first = await Promise.race([reader.read(), Bun.sleep(15_000).then(() => undefined)]);
    const id = first && !first.done ? new TextDecoder().decode(first.value).trim() : "";
    child.kill("SIGKILL");
    await child.exited;
    expect(id).toMatch(/^[a-z][a-z0-9]{3}$/);
    expect(leftoversOf(id).length).toBeGreaterThan(0);

    const start = performance.now();
    const report = await cleanupStale();
    log(`cleanupStale: ${elapsed(start)} ms, reaped ${report.reaped.join(" ")}`);
    // A test run going on at the same time may have reaped it first: either way it must be gone.
    expect(report.failed.filter((f) => f.startsWith(id))).toEqual([]);
    if (!report.reaped.includes(id)) log(`run ${id} was reaped by another cleanupStale`);
    expect(report.alive).toContain(lan.id);
    expect(leftoversOf(id)).toEqual([]);
    expect((await c.tcpRead(a.address, port)).ok).toBe(true);
  });

  test("destroy() leaves no namespace, link, mount, process, claim or folder behind; a second destroy is a no-op", async () => {
    await lan.destroy();
    expect(leftoversOf(lan.id)).toEqual([]);
    await lan.destroy();
  });
});
