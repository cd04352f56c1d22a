/**
 * Several workstations forming one cluster (issue 10), on three simulated workstations: each a
 * network namespace on one LAN with its own dockerd (test/e2e/lib/hosts.ts), the compiled
 * cslr run "on" each (its namespaces, DOCKER_HOST = its engine). Stand-in Ray, which fails the
 * way Ray fails across hosts: a node advertises an address and the head dials it back there.
 *
 * In order: the coordinator (a) comes up in host mode and prints the join line; b and c join
 * with it; 20 rounds of all three starting at once (one head, every node registered with it at
 * its host's address, never two heads by the stand-in heads' own timestamps); the head's host
 * cut off (a new head elsewhere, the old one fenced before the new one started, the workers
 * follow); healed (the old head is a worker); a host leaves; a wrong token; a worker-only host;
 * bridge networking across hosts refused, and failing with Ray's symptom when forced.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { pinnedFetch, pinOfPem } from "../../src/election/tls.ts";
import { compiledCslr } from "../helpers/binary.ts";
import { cleanupStale, describeNetns } from "../helpers/netns.ts";
import { describeE2E, testImages } from "./lib/engine.ts";
import { type Workstation, type Workstations, createWorkstations } from "./lib/hosts.ts";

const leaseTtl = 6;
const healthPort = 8888;
// CSLR_E2E_ROUNDS shortens the loop while working on the suite; CI runs the 20.
const rounds = Number(process.env.CSLR_E2E_ROUNDS ?? 20);

interface RosterNode {
  node: string;
  host?: string;
  address: string;
  term?: number;
  ready?: boolean;
}
interface Roster {
  head: RosterNode | null;
  term: number;
  workers: RosterNode[];
}

/** Head intervals from the stand-in heads' own log lines (one clock: one kernel). */
interface HeadSpan {
  node: string;
  from: number;
  to: number | undefined;
}

function headSpans(log: string): HeadSpan[] {
  const spans: HeadSpan[] = [];
  for (const line of log.split("\n")) {
    const up = /head (\S+) listening on \S+ \(GCS stand-in\) at (\d+)/.exec(line);
    if (up) spans.push({ node: up[1]!, from: Number(up[2]), to: undefined });
    const down = /head (\S+) stopping on \w+ at (\d+)/.exec(line);
    if (down) {
      const open = spans.findLast((s) => s.node === down[1] && s.to === undefined);
      if (open) open.to = Number(down[2]);
    }
  }
  return spans;
}

/** Pairs of heads whose spans overlap; an open span lasts until `now`. */
function overlaps(spans: HeadSpan[], now: number): string[] {
  const found: string[] = [];
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) {
      const [x, y] = [spans[i]!, spans[j]!];
      if (x.from < (y.to ?? now) && y.from < (x.to ?? now)) found.push(`${x.node} [${x.from}, ${x.to ?? "…"}] and ${y.node} [${y.from}, ${y.to ?? "…"}]`);
    }
  }
  return found;
}

describeE2E("e2e: three workstations, one cluster (stand-in Ray)", () => {
  describeNetns("three namespaced workstations with their own dockerd", () => {
    let group: Workstations;
    let a: Workstation, b: Workstation, c: Workstation;
    let binary = "";
    let joinLine = "";
    /** The join token the coordinator printed (cslr1.<certificate pin>.<secret>): members get it in their environment, never in argv. */
    let joinToken = "";
    /** The member that left: the later scenarios run there, on a host with nothing of the cluster left. */
    let spare: Workstation;
    const project = `mh${Math.random().toString(36).slice(2, 7)}`;
    const root = mkdtempSync(join(tmpdir(), "cslr-e2e-multihost-"));
    const dirOf = (w: Workstation, sub = "") => join(root, w.name, sub);

    const cslr = (w: Workstation, args: string[], opts: { timeoutMs?: number; sub?: string; env?: Record<string, string> } = {}) =>
      w.exec([binary, ...args], opts.env ?? {}, { cwd: dirOf(w, opts.sub), timeoutMs: opts.timeoutMs ?? 180_000 });
    const ok = async (w: Workstation, args: string[], opts: { timeoutMs?: number; sub?: string; env?: Record<string, string> } = {}) => {
      const result = await cslr(w, args, opts);
      if (result.code !== 0) throw new Error(`cslr ${args.join(" ")} on ${w.name} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
      return result;
    };

    const token = () => /^CSLR_CLUSTER_TOKEN=(.*)$/m.exec(readFileSync(join(dirOf(a), ".env"), "utf8"))![1]!;
    /** The coordinator's certificate pin: the test talks to it as a member would. */
    const pin = () => pinOfPem(readFileSync(join(dirOf(a), "election-cert.pem"), "utf8"))!;
    async function roster(): Promise<Roster | undefined> {
      try {
        const response = await pinnedFetch(pin())(`https://${a.address}:${healthPort}/v1/cluster`, {
          headers: { authorization: `Bearer ${token()}` },
          signal: AbortSignal.timeout(1500),
        });
        return response.ok ? ((await response.json()) as Roster) : undefined;
      } catch {
        return undefined;
      }
    }
    async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await check();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; roster: ${JSON.stringify(await roster())}`);
        await Bun.sleep(200);
      }
    }
    const current = (r: Roster) => r.workers.filter((w) => w.term === undefined || w.term === r.head?.term);
    /** The roster once `count` nodes (head included) are on it in the head's term. */
    const formed = (count: number) => async () => {
      const r = await roster();
      return r?.head?.ready && current(r).length + 1 === count ? r : undefined;
    };
    const hostOf = (r: Roster, node: string) => [r.head, ...r.workers].find((n) => n?.node === node)?.host;
    const workstationNamed = (host: string | undefined) => group.hosts.find((w) => w.hostname.split(".")[0] === host)!;

    /** Container ids of this project's Ray services on a workstation. */
    async function rayContainers(w: Workstation): Promise<{ id: string; service: string }[]> {
      const ps = await w.docker([
        "ps",
        "-a",
        "--filter",
        `label=com.docker.compose.project=${project}`,
        "--format",
        '{{.ID}} {{.Label "com.docker.compose.service"}}',
      ]);
      return ps.stdout
        .split("\n")
        .filter(Boolean)
        .map((line) => ({ id: line.split(" ")[0]!, service: line.split(" ")[1]! }))
        .filter((c) => c.service.startsWith("ray-"));
    }
    async function headLogs(): Promise<string> {
      const logs: string[] = [];
      for (const w of group.hosts) {
        for (const c of (await rayContainers(w)).filter((x) => x.service === "ray-cpu")) {
          const out = await w.docker(["logs", c.id]);
          logs.push(out.stdout, out.stderr);
        }
      }
      return logs.join("\n");
    }
    /** The head's own view (stand-in `ray status`, run in its container): node name → advertised ip. */
    async function registered(r: Roster): Promise<Map<string, string>> {
      const w = workstationNamed(r.head!.host);
      const head = (await rayContainers(w)).find((x) => x.service === "ray-cpu")!;
      const status = await w.docker(["exec", head.id, "ray", "status"]);
      const nodes = new Map<string, string>();
      for (const m of status.stdout.matchAll(/NODE (\S+) (?:head|worker) ([\d.]+):\d+ /g)) nodes.set(m[1]!, m[2]!);
      return nodes;
    }
    const addressOfHost = (host: string | undefined) => workstationNamed(host).address;

    beforeAll(async () => {
      await cleanupStale();
      binary = await compiledCslr();
      group = await createWorkstations({ count: 3, images: [testImages.base, testImages.ray] });
      [a, b, c] = group.hosts as [Workstation, Workstation, Workstation];
      for (const w of group.hosts) mkdirSync(dirOf(w), { recursive: true });
    }, 600_000);

    afterAll(async () => {
      if (group) {
        await Promise.all(
          group.hosts.map(async (w) => {
            for (const sub of existsSync(dirOf(w))
              ? [
                  "",
                  ...readdirSync(dirOf(w), { withFileTypes: true })
                    .filter((d) => d.isDirectory() && d.name !== "_build")
                    .map((d) => d.name),
                ]
              : []) {
              if (existsSync(join(dirOf(w, sub), "config.yaml"))) await cslr(w, ["down", "-v", "--timeout", "2"], { sub, timeoutMs: 120_000 });
            }
          }),
        );
        await group.destroy();
      }
      rmSync(root, { recursive: true, force: true });
    }, 300_000);

    test("the coordinator comes up on the host network and prints the line that adds a workstation", async () => {
      await ok(a, ["init", "--quiet"]);
      const config = {
        project: { name: project },
        network: { mode: "host" },
        services: {
          health: { image: testImages.base, port: healthPort, binary, lease_ttl: leaseTtl },
          ray: { cpu: { image: testImages.ray, shm_size: "64m" }, gpu: { enabled: false }, workers: 1 },
          redis: { enabled: false },
          mlflow: { enabled: false, postgres: { enabled: false } },
          marimo: { enabled: false },
        },
      };
      writeFileSync(join(dirOf(a), "config.yaml"), stringify(config));
      const up = await ok(a, ["up", "-d", "--wait"], { timeoutMs: 240_000 });
      joinLine = /^\s*(cslr join https:\/\/\S+ --token -)\s*$/m.exec(up.stderr)?.[1] ?? "";
      expect(joinLine).toBe(`cslr join https://${a.address}:${healthPort} --token -`);
      joinToken = /^\s*(cslr1\.\S+)\s*$/m.exec(up.stderr)?.[1] ?? "";
      expect(joinToken).toBe(`cslr1.${pin()}.${token()}`);
      const r = await waitFor("the coordinator's two nodes", 60_000, formed(2));
      expect(addressOfHost(r.head!.host)).toBe(a.address);
    }, 300_000);

    test("two workstations join with the printed line; every node registered with the head at its host's address", async () => {
      // The printed line with its `--token -` dropped: the token comes from the environment.
      const args = [...joinLine.split(" ").slice(1, -2), "--up"];
      const env = { CSLR_CLUSTER_TOKEN: joinToken };
      await Promise.all([ok(b, args, { timeoutMs: 240_000, env }), ok(c, args, { timeoutMs: 240_000, env })]);
      for (const w of [b, c]) {
        expect(parse(readFileSync(join(dirOf(w), "config.yaml"), "utf8")).network.mode).toBe("host");
        expect(
          Bun.spawnSync(["stat", "-c", "%a", join(dirOf(w), ".env")])
            .stdout.toString()
            .trim(),
        ).toBe("600");
      }
      const r = await waitFor("four nodes on three hosts", 90_000, formed(4));
      const hosts = new Set([r.head!, ...current(r)].map((n) => n.host));
      expect(hosts.size).toBe(3);
      const seen = await waitFor("the head to list four nodes", 30_000, async () => {
        const nodes = await registered(r);
        return nodes.size === 4 ? nodes : undefined;
      });
      for (const n of [r.head!, ...current(r)]) expect({ node: n.node, ip: seen.get(n.node) }).toEqual({ node: n.node, ip: addressOfHost(n.host) });

      const status = await ok(a, ["status", "--json"]);
      const report = JSON.parse(status.stdout) as { hosts: { name: string; address: string; nodes: unknown[] }[]; gcsAddress: string };
      expect(report.hosts.map((h) => h.address).sort()).toEqual([a.address, b.address, c.address].sort());
      expect(report.gcsAddress).toBe(`${addressOfHost(r.head!.host)}:6379`);
    }, 300_000);

    test(`${rounds} rounds of all three workstations starting at once: one head, every node at its host's address, never two heads`, async () => {
      const problems: string[] = [];
      const heads = new Map<string, number>();
      for (let round = 1; round <= rounds; round++) {
        await Promise.all(group.hosts.map((w) => ok(w, ["down", "--timeout", "5"], { timeoutMs: 120_000 })));
        const began = Date.now();
        await Promise.all(group.hosts.map((w) => ok(w, ["up", "-d", "--wait"], { timeoutMs: 240_000 })));
        const r = await waitFor(`round ${round}: four nodes`, 90_000, formed(4));
        heads.set(r.head!.node, (heads.get(r.head!.node) ?? 0) + 1);
        const seen = await waitFor(`round ${round}: the head to list four nodes`, 30_000, async () => {
          const nodes = await registered(r);
          return nodes.size === 4 ? nodes : undefined;
        });
        for (const n of [r.head!, ...current(r)]) {
          if (seen.get(n.node) !== addressOfHost(n.host))
            problems.push(`round ${round}: ${n.node} registered at ${seen.get(n.node)}, its host is ${addressOfHost(n.host)}`);
        }
        const spans = headSpans(await headLogs()).filter((s) => s.from >= began);
        for (const pair of overlaps(spans, Date.now())) problems.push(`round ${round}: two heads at once: ${pair}`);
        if (spans.length === 0) problems.push(`round ${round}: no head span in the stand-in logs (the detector saw nothing)`);
      }
      console.log(`multi-host: heads over ${rounds} rounds: ${JSON.stringify(Object.fromEntries(heads))}`);
      expect(problems).toEqual([]);
    }, 1_800_000);

    test("the head's host cut off: a new head on another host within TTL + margin + start, fenced before it began; the old head returns as a worker", async () => {
      let r = await waitFor("a formed cluster", 90_000, formed(4));
      // With the head on the coordinator a cut would take the election service away with it
      // (no fallback head: the others wait); move the head to a member first.
      if (addressOfHost(r.head!.host) === a.address) {
        const cpu = (await rayContainers(a)).find((x) => x.service === "ray-cpu")!;
        await a.docker(["stop", "--time", "5", cpu.id]);
        await waitFor("a head on a member", 60_000, async () => {
          const now = await roster();
          return now?.head?.ready && addressOfHost(now.head.host) !== a.address ? now : undefined;
        });
        await a.docker(["start", cpu.id]);
        r = await waitFor("four nodes again", 90_000, formed(4));
      }
      const oldHead = r.head!;
      const lost = workstationNamed(oldHead.host);
      const cutAt = Date.now();
      group.lan.partition(lost.host);
      try {
        const after = await waitFor("a new head elsewhere", (leaseTtl + 3) * 1000 + 30_000, async () => {
          const now = await roster();
          return now?.head?.ready && now.head.node !== oldHead.node ? now : undefined;
        });
        const failoverMs = Date.now() - cutAt;
        console.log(`multi-host: failover after the head's host was cut off: ${failoverMs} ms (lease TTL ${leaseTtl} s)`);
        expect(addressOfHost(after.head!.host)).not.toBe(lost.address);
        // The nodes that can still reach the coordinator follow the new head: two hosts' three nodes.
        await waitFor("the other nodes under the new head", 60_000, async () => {
          const now = await roster();
          const nodes = now ? [now.head!, ...current(now)].filter((n) => n.host !== oldHead.host) : [];
          return nodes.length === 3 ? true : undefined;
        });
      } finally {
        group.lan.heal();
      }
      const spans = headSpans(await headLogs()).filter((s) => s.from >= cutAt - 600_000);
      const old = spans.findLast((s) => s.node === oldHead.node && s.from < cutAt)!;
      const next = spans.find((s) => s.node !== oldHead.node && s.from > cutAt)!;
      if (old.to === undefined)
        console.log(
          `old head's log:\n${(await headLogs())
            .split("\n")
            .filter((l) => l.includes(oldHead.node.split(".")[1]!) || l.includes("cslr node"))
            .slice(-60)
            .join("\n")}`,
        );
      expect(old.to).toBeDefined();
      expect(old.to!).toBeLessThan(next.from);
      console.log(`multi-host: the old head stopped ${old.to! - cutAt} ms after the cut; the new one listened ${next.from - cutAt} ms after it`);

      const healed = await waitFor("the old head back, as a worker", 120_000, async () => {
        const now = await roster();
        return now && current(now).some((w) => w.node === oldHead.node) && current(now).length === 3 ? now : undefined;
      });
      expect(healed.head!.node).not.toBe(oldHead.node);
    }, 400_000);

    test("a host leaves: its nodes are gone from the roster", async () => {
      await waitFor("four nodes", 90_000, formed(4));
      const before = (await roster())!;
      // Leaving the head's host would be a failover first; leave from a member that is a worker.
      const leaver = addressOfHost(before.head!.host) === c.address ? b : c;
      spare = leaver;
      const leaverNodes = [before.head!, ...current(before)].filter((n) => addressOfHost(n.host) === leaver.address).map((n) => n.node);
      await ok(leaver, ["leave"], { timeoutMs: 120_000 });
      const after = (await roster())!;
      expect([after.head!, ...after.workers].map((n) => n.node).filter((n) => leaverNodes.includes(n))).toEqual([]);
      expect((await rayContainers(leaver)).length).toBe(0);
    }, 200_000);

    test("a wrong token is refused with one line, and nothing is written", async () => {
      mkdirSync(dirOf(spare, "wrong"), { recursive: true });
      const result = await cslr(spare, ["join", `https://${a.address}:${healthPort}`], {
        sub: "wrong",
        env: { CSLR_CLUSTER_TOKEN: `cslr1.${pin()}.not-the-token-at-all` },
      });
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain("refused the token");
      expect(readdirSync(dirOf(spare, "wrong"))).toEqual([]);
    }, 60_000);

    test("a worker-only host (no ray-cpu, one worker replica) joins at its host's address", async () => {
      mkdirSync(dirOf(spare, "workers"), { recursive: true });
      await ok(spare, joinLine.split(" ").slice(1, -2), { sub: "workers", env: { CSLR_CLUSTER_TOKEN: joinToken } });
      const file = join(dirOf(spare, "workers"), "config.yaml");
      const config = parse(readFileSync(file, "utf8"));
      config.services.ray.cpu.enabled = false;
      config.services.ray.workers = 1;
      writeFileSync(file, stringify(config));
      await ok(spare, ["up", "-d", "--wait"], { sub: "workers", timeoutMs: 240_000 });
      const r = await waitFor("the worker-only host's worker", 60_000, async () => {
        const now = await roster();
        return now && current(now).some((w) => w.node.startsWith("ray-worker-1.") && addressOfHost(w.host) === spare.address) ? now : undefined;
      });
      const worker = current(r).find((w) => addressOfHost(w.host) === spare.address)!;
      const seen = await waitFor("the head to list it", 30_000, async () => ((await registered(r)).get(worker.node) === spare.address ? true : undefined));
      expect(seen).toBe(true);
      await ok(spare, ["leave"], { sub: "workers", timeoutMs: 120_000 });
    }, 300_000);

    test("bridge networking across hosts: refused by the config, and forced by hand it fails as Ray does (GCS health check failed)", async () => {
      mkdirSync(dirOf(spare, "bridge"), { recursive: true });
      await ok(spare, joinLine.split(" ").slice(1, -2), { sub: "bridge", env: { CSLR_CLUSTER_TOKEN: joinToken } });
      const file = join(dirOf(spare, "bridge"), "config.yaml");
      const config = parse(readFileSync(file, "utf8"));
      config.network.mode = "bridge";
      writeFileSync(file, stringify(config));
      const refused = await cslr(spare, ["up", "-d"], { sub: "bridge" });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/^config\.yaml:\d+:\d+  network\.mode  bridge networking with the election service on another host/m);
      expect((await rayContainers(spare)).length).toBe(0);

      // By hand: a stand-in worker in a bridge container on c joins the head; it advertises its
      // container address, the head cannot dial it back and declares it dead.
      const r = (await waitFor("a head", 60_000, async () => ((await roster())?.head?.ready ? await roster() : undefined)))!;
      const rayToken = /^RAY_AUTH_TOKEN=(.*)$/m.exec(readFileSync(join(dirOf(a), ".env"), "utf8"))?.[1];
      const run = await spare.docker(
        [
          "run",
          "--rm",
          "--name",
          `${project}-bridged`,
          ...(rayToken ? ["-e", "RAY_AUTH_MODE=token", "-e", `RAY_AUTH_TOKEN=${rayToken}`] : []),
          "-e",
          "CSLR_NODE_NAME=bridged-worker",
          "-e",
          "RAY_gcs_rpc_server_reconnect_timeout_s=20",
          testImages.ray,
          "ray",
          "start",
          `--address=${addressOfHost(r.head!.host)}:6379`,
          "--block",
        ],
        { timeoutMs: 120_000 },
      );
      expect(run.code).toBe(1);
      const headHost = workstationNamed(r.head!.host);
      const head = (await rayContainers(headHost)).find((x) => x.service === "ray-cpu")!;
      const logs = await headHost.docker(["logs", head.id]);
      expect(logs.stdout + logs.stderr).toMatch(/GCS health check failed for node bridged-worker at 172\.\d+\.\d+\.\d+:\d+/);
    }, 300_000);
  });
});
