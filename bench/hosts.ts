/**
 * Three simulated workstations (network namespaces on one LAN, a dockerd each; see
 * test/e2e/lib/hosts.ts), each running ray-cpu and two worker replicas of the stand-in:
 * 1. formation: from `cslr up -d` on all three at once until all 9 nodes are registered with
 *    the head (the stand-in head's own timestamps), and from its port opening;
 * 2. failover: the head's host cut off the LAN; time until a new head is ready (target: lease
 *    TTL + 3 s).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { testImages, engineProblem } from "../test/e2e/lib/engine.ts";
import { createWorkstations, type Workstation } from "../test/e2e/lib/hosts.ts";
import { compiledCslr } from "../test/helpers/binary.ts";
import { netnsAvailable } from "../test/helpers/netns.ts";
import type { BenchRow } from "./election.ts";

const leaseTtl = 6;
const healthPort = 8888;

export function hostsBenchProblem(): string | undefined {
  const netns = netnsAvailable();
  if (!netns.available) return netns.reason;
  return engineProblem() ?? undefined;
}

interface Roster {
  head: { node: string; host?: string; ready?: boolean; term: number } | null;
  workers: { node: string; host?: string; term?: number }[];
}

export async function benchHosts(): Promise<BenchRow[]> {
  const binary = await compiledCslr();
  const group = await createWorkstations({ count: 3, images: [testImages.base, testImages.ray], log: () => {} });
  const root = mkdtempSync(join(tmpdir(), "cslr-bench-hosts-"));
  const [a, b, c] = group.hosts as [Workstation, Workstation, Workstation];
  const dirOf = (w: Workstation) => join(root, w.name);
  const cslr = async (w: Workstation, args: string[]) => {
    const result = await w.exec([binary, ...args], {}, { cwd: dirOf(w), timeoutMs: 240_000 });
    if (result.code !== 0) throw new Error(`cslr ${args.join(" ")} on ${w.name}: ${result.stderr}`);
    return result;
  };
  const token = () => /^CSLR_CLUSTER_TOKEN=(.*)$/m.exec(readFileSync(join(dirOf(a), ".env"), "utf8"))![1]!;
  const roster = async (): Promise<Roster | undefined> => {
    try {
      const r = await fetch(`http://${a.address}:${healthPort}/v1/cluster`, {
        headers: { authorization: `Bearer ${token()}` },
        signal: AbortSignal.timeout(1000),
      });
      return r.ok ? ((await r.json()) as Roster) : undefined;
    } catch {
      return undefined;
    }
  };
  const until = async <T>(check: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`bench timed out; roster: ${JSON.stringify(await roster())}`);
      await Bun.sleep(20);
    }
  };
  const byHost = (host: string | undefined) => group.hosts.find((w) => w.hostname.split(".")[0] === host)!;
  /** The head container's log on its workstation. */
  const headLog = async (r: Roster) => {
    const w = byHost(r.head!.host);
    const id = (await w.docker(["ps", "-q", "--filter", "label=com.docker.compose.service=ray-cpu"])).stdout.trim();
    const logs = await w.docker(["logs", id]);
    return logs.stdout + logs.stderr;
  };
  const stamps = (log: string, pattern: RegExp) =>
    log
      .split("\n")
      .filter((l) => pattern.test(l))
      .map((l) => Number(/ at (\d+)/.exec(l)?.[1]))
      .filter(Number.isFinite);

  try {
    for (const w of group.hosts) mkdirSync(dirOf(w));
    await cslr(a, ["init", "--quiet"]);
    const sizing = { image: testImages.ray, shm_size: "64m" };
    writeFileSync(
      join(dirOf(a), "config.yaml"),
      stringify({
        project: { name: "benchhosts" },
        network: { mode: "host" },
        services: {
          health: { image: testImages.base, port: healthPort, binary, lease_ttl: leaseTtl },
          ray: { cpu: sizing, gpu: { enabled: false }, workers: 2 },
          redis: { enabled: false },
          mlflow: { enabled: false, postgres: { enabled: false } },
          marimo: { enabled: false },
        },
      }),
    );
    const line = /cslr (join \S+ --token \S+)/.exec((await cslr(a, ["up", "-d", "--wait"])).stderr)![1]!.split(" ");
    for (const w of [b, c]) {
      await cslr(w, line);
      const file = join(dirOf(w), "config.yaml");
      writeFileSync(file, readFileSync(file, "utf8").replace("workers: 0", "workers: 2"));
    }
    await cslr(a, ["down", "--timeout", "2"]);

    // 1. Formation.
    const started = Date.now();
    await Promise.all(group.hosts.map((w) => cslr(w, ["up", "-d"])));
    const upsReturned = Date.now();
    const formed = await until(async () => {
      const r = await roster();
      return r?.head?.ready && r.workers.filter((w) => w.term === r.head!.term).length === 8 ? r : undefined;
    });
    const log = await until(async () => {
      const text = await headLog(formed);
      return stamps(text, /registered \(/).length >= 8 ? text : undefined;
    });
    const portOpen = stamps(log, /listening on/).at(-1)!;
    const lastRegistered = Math.max(...stamps(log, /registered \(/));
    const formation: BenchRow = {
      benchmark: "formation: 3 workstations × (ray-cpu + 2 workers), stand-in Ray, `cslr up -d` on all at once",
      "up -d returned (all three) ms": upsReturned - started,
      "up -d → head port open ms": portOpen - started,
      "head port open → all 9 registered ms": lastRegistered - portOpen,
      "up -d → all 9 registered ms": lastRegistered - started,
      "target (port open → registered) ms": 1000,
    };

    // 2. Failover: the head must be on a member for a cut to leave the election service reachable.
    let r = formed;
    if (byHost(r.head!.host) === a) {
      const id = (await a.docker(["ps", "-q", "--filter", "label=com.docker.compose.service=ray-cpu"])).stdout.trim();
      await a.docker(["stop", "--time", "5", id]);
      r = await until(async () => {
        const now = await roster();
        return now?.head?.ready && byHost(now.head.host) !== a ? now : undefined;
      });
      await a.docker(["start", id]);
    }
    const lost = byHost(r.head!.host);
    const cutAt = Date.now();
    group.lan.partition(lost.host);
    const after = await until(async () => {
      const now = await roster();
      return now?.head?.ready && now.head.node !== r.head!.node ? now : undefined;
    });
    const newHeadMs = Date.now() - cutAt;
    group.lan.heal();
    const failover: BenchRow = {
      benchmark: `failover: the head's workstation cut off the LAN (lease TTL ${leaseTtl} s)`,
      "cut → new head ready ms": newHeadMs,
      "target (TTL + 3 s) ms": leaseTtl * 1000 + 3000,
      "head before → after": `${r.head!.node} → ${after.head!.node}`,
    };
    return [formation, failover];
  } finally {
    await Promise.all(
      group.hosts.map((w) => w.exec([binary, "down", "-v", "--timeout", "2"], {}, { cwd: dirOf(w), timeoutMs: 120_000 }).catch(() => undefined)),
    );
    await group.destroy();
    rmSync(root, { recursive: true, force: true });
  }
}
