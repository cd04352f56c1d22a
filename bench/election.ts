/**
 * Election benchmarks (part of `bun run bench`, never of the tests):
 * 1. the real `cslr health serve` under 64 concurrent keep-alive connections for 10 s on
 *    loopback, sending claims and heartbeats: requests/s, p50/p99 latency, server RSS;
 * 2. 32 real entrypoints with a zero-delay stand-in `ray`: time from the head's port opening
 *    until every worker joined (election roster) and registered with the head (data plane);
 * 3. failover after a SIGKILL of the head; 4. planned head changes (`cslr handover`, SIGTERM).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Harness } from "../test/node/harness.ts";
import { freePort } from "../test/helpers/ports.ts";
import { nodeKey } from "../src/election/auth.ts";
import { handOver } from "../src/election/handover.ts";

const repo = resolve(import.meta.dir, "..");
const cli = join(repo, "src/cli.ts");

export type BenchRow = Record<string, string | number>;

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : NaN;
}

/** One keep-alive connection sending requests back to back; records each latency in ms. */
async function driveConnection(port: number, requests: string[], until: number, latencies: number[]): Promise<number> {
  let buffer = "";
  let sentAt = 0;
  let next = 0;
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const send = (socket: { write(data: string): number }) => {
    if (performance.now() >= until) return finish();
    sentAt = performance.now();
    socket.write(requests[next++ % requests.length]!);
  };
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      open(s) {
        send(s);
      },
      data(s, chunk) {
        buffer += chunk.toString();
        while (true) {
          const headerEnd = buffer.indexOf("\r\n\r\n");
          if (headerEnd < 0) return;
          const length = Number(/content-length: (\d+)/i.exec(buffer.slice(0, headerEnd))?.[1] ?? 0);
          if (buffer.length < headerEnd + 4 + length) return;
          if (!buffer.startsWith("HTTP/1.1 200")) throw new Error(`unexpected answer: ${buffer.slice(0, 80)}`);
          buffer = buffer.slice(headerEnd + 4 + length);
          latencies.push(performance.now() - sentAt);
          done++;
          send(s);
        }
      },
      close: () => finish(),
      error: () => finish(),
    },
  });
  await finished;
  socket.end();
  return done;
}

/** A node's request, signed with its own key (HMAC of the cluster token and its name), as the agent sends it. */
function request(path: string, body: { node: string } & Record<string, unknown>, token: string): string {
  const json = JSON.stringify(body);
  return `POST ${path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer ${nodeKey(token, body.node)}\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n${json}`;
}

/** The compiled-from-source election service on loopback, plain HTTP, whitelisting `head`, its state in `dir`. */
function spawnElectionService(dir: string, port: number, token: string) {
  const argv = ["bun", cli, "health", "serve", "--host", "127.0.0.1", "--port", String(port), "--whitelist", "head"];
  return Bun.spawn([...argv, "--state", join(dir, "state.json"), "--lease-ttl", "60s"], {
    env: { ...process.env, CSLR_CLUSTER_TOKEN: token },
    stdout: "ignore",
    stderr: "ignore",
  });
}

/** Waits (up to 5 s) until `url` answers 2xx. */
async function untilHealthy(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await Bun.sleep(25);
  }
}

export async function benchThroughput(options = { connections: 64, seconds: 10 }): Promise<BenchRow> {
  const dir = mkdtempSync(join(tmpdir(), "cslr-bench-election-"));
  const port = freePort();
  const token = "bench-token";
  const server = spawnElectionService(dir, port, token);
  try {
    const url = `http://127.0.0.1:${port}`;
    await untilHealthy(`${url}/healthz`);
    const headers = { authorization: `Bearer ${nodeKey(token, "head")}` };
    const grant = (await (
      await fetch(`${url}/v1/claim`, { method: "POST", headers, body: JSON.stringify({ node: "head", address: "head:6379" }) })
    ).json()) as { term: number };
    await fetch(`${url}/v1/ready`, { method: "POST", headers, body: JSON.stringify({ node: "head", term: grant.term }) });
    // Half heartbeats of the head, half claims of workers (answered role=worker), as in a cluster.
    const requests = [
      request("/v1/heartbeat", { node: "head", term: grant.term }, token),
      ...Array.from({ length: 16 }, (_, i) => [
        request("/v1/claim", { node: `worker-${i}`, address: `10.0.0.${i + 2}` }, token),
        request("/v1/heartbeat", { node: "head", term: grant.term }, token),
      ]).flat(),
    ];
    const latencies: number[] = [];
    const started = performance.now();
    const until = started + options.seconds * 1000;
    const counts = await Promise.all(Array.from({ length: options.connections }, () => driveConnection(port, requests, until, latencies)));
    const elapsed = (performance.now() - started) / 1000;
    const total = counts.reduce((a, b) => a + b, 0);
    const sorted = Float64Array.from(latencies).sort();
    return {
      benchmark: `claims+heartbeats, ${options.connections} keep-alive connections, ${options.seconds} s`,
      "requests/s": Math.round(total / elapsed),
      "p50 ms": Math.round(percentile(sorted, 0.5) * 100) / 100,
      "p99 ms": Math.round(percentile(sorted, 0.99) * 100) / 100,
      "server RSS MiB": rssMiB(server.pid),
    };
  } finally {
    server.kill("SIGTERM");
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Hostile clients holding connections: `idle` connections that send nothing and `partial`
 * ones that send half a request's headers and stall; meanwhile /healthz is asked 50 times.
 * The service must keep answering (target: p99 under 50 ms).
 */
export async function benchHeldConnections(options = { idle: 500, partial: 500 }): Promise<BenchRow> {
  const dir = mkdtempSync(join(tmpdir(), "cslr-bench-held-"));
  const port = freePort();
  const server = spawnElectionService(dir, port, "bench-token");
  const sockets: { end(): void }[] = [];
  try {
    const url = `http://127.0.0.1:${port}/healthz`;
    await untilHealthy(url);
    const open = (greeting: string) =>
      Bun.connect({ hostname: "127.0.0.1", port, socket: { open: (s) => void (greeting && s.write(greeting)), data() {}, close() {}, error() {} } });
    for (let i = 0; i < options.idle; i++) sockets.push(await open(""));
    for (let i = 0; i < options.partial; i++) sockets.push(await open("POST /v1/claim HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"));
    const latencies: number[] = [];
    let failures = 0;
    for (let i = 0; i < 50; i++) {
      const start = performance.now();
      const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      latencies.push(performance.now() - start);
      if (!ok) failures++;
    }
    const sorted = Float64Array.from(latencies).sort();
    return {
      benchmark: `/healthz while ${options.idle} idle and ${options.partial} half-sent connections are held`,
      "p50 ms": Math.round(percentile(sorted, 0.5) * 100) / 100,
      "p99 ms": Math.round(percentile(sorted, 0.99) * 100) / 100,
      "failed of 50": failures,
      "target p99 ms": 50,
      "server RSS MiB": rssMiB(server.pid),
    };
  } finally {
    for (const s of sockets) s.end();
    server.kill("SIGTERM");
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Epoch ms printed by the stand-in head in lines matching `pattern`. */
function stamps(output: string, pattern: RegExp): number[] {
  return output
    .split("\n")
    .filter((l) => pattern.test(l))
    .map((l) => Number(/ at (\d+)$/.exec(l)?.[1]))
    .filter(Number.isFinite);
}

export async function benchFormation(nodes = 32): Promise<BenchRow> {
  // The compiled stand-in, as baked into the Docker test image: no per-start transpiling.
  const binDir = mkdtempSync(join(tmpdir(), "cslr-bench-ray-"));
  const build = Bun.spawnSync(["bun", "build", "--compile", join(repo, "test/stand-in/ray.ts"), "--outfile", join(binDir, "ray")], {
    stdout: "ignore",
    stderr: "pipe",
  });
  if (build.exitCode !== 0) throw new Error(`cannot compile the stand-in: ${build.stderr.toString()}`);
  const harness = await new Harness({ nodes, leaseTtl: 10, headDelayMs: 0, rayBinDir: binDir }).prepare();
  try {
    await harness.startServer();
    const spawnedAt = Date.now();
    for (let i = 0; i < nodes; i++) harness.startNode(i);
    const view = await harness.formed(nodes - 1, 60_000);
    const rosterDone = Math.max(...view.workers.map((w) => w.joinedAt));
    await harness.dataPlaneMatches(view);
    const headOutput = harness.nodes.get(view.head!.node)!.output;
    const portOpen = stamps(headOutput, /listening on/)[0]!;
    const registered = stamps(headOutput, /registered \(/);
    const dataDone = Math.max(...registered);
    // When each worker's entrypoint learned the head (log lines carry UTC times in ms).
    const learned = [...harness.nodes.values()]
      .map((p) => p.output.split("\n").find((l) => l.includes("decision=worker")))
      .filter((l): l is string => l !== undefined)
      .map((l: string) => Date.parse(`${l.slice(0, 23)}Z`));
    return {
      benchmark: `formation of ${nodes} entrypoints, zero-delay stand-in`,
      "spawn → head port open ms": portOpen - spawnedAt,
      "port open → every worker knows the head ms": Math.max(...learned) - portOpen,
      "port open → all joined (roster) ms": rosterDone - portOpen,
      "port open → all registered (data plane) ms": dataDone - portOpen,
      "spawn → all registered ms": dataDone - spawnedAt,
    };
  } finally {
    await harness.stopNodes().catch(() => {});
    await harness.cleanup();
    rmSync(binDir, { recursive: true, force: true });
  }
}

/** Forms `nodes` agents, SIGKILLs the head's process group, and times the new head and the workers' re-join. */
async function killHeadAndTime(harness: Harness, nodes: number) {
  await harness.startServer();
  for (let i = 0; i < nodes; i++) harness.startNode(i);
  const before = await harness.formed(nodes - 1, 60_000);
  const killedAt = Date.now();
  harness.nodes.get(before.head!.node)!.signalGroup("SIGKILL");
  let after = before;
  while (!(after.head?.ready && after.head.term > before.head!.term)) {
    await Bun.sleep(10);
    after = await harness.cluster();
  }
  const newHeadReady = Date.now() - killedAt;
  const formed = await harness.formed(nodes - 2, 60_000);
  return {
    "kill → new head ready ms": newHeadReady,
    "kill → all workers re-joined ms": Math.max(...formed.workers.map((w) => w.joinedAt)) - killedAt,
    terms: `${before.head!.term} → ${after.head!.term}`,
  };
}

/** SIGKILL the head's whole process group (container gone): time until a new head is ready. */
export async function benchFailover(nodes = 8, leaseTtl = 2): Promise<BenchRow> {
  const harness = await new Harness({ nodes, leaseTtl, headDelayMs: 20 }).prepare();
  try {
    const { terms, ...times } = await killHeadAndTime(harness, nodes);
    return {
      benchmark: `failover of ${nodes} nodes, lease TTL ${leaseTtl} s, head SIGKILLed`,
      ...times,
      "target (TTL + 3 s) ms": leaseTtl * 1000 + 3000,
      "term before → after": terms,
    };
  } finally {
    await harness.cleanup();
  }
}

/**
 * A head's container killed (`docker kill`), at the default TTL (30 s): each node in a PID
 * namespace of its own with its agent as PID 1, as in a container, SIGKILLed from outside.
 * The service hears the head's watch close and ends its lease after a 1 s grace.
 */
export async function benchContainerKill(nodes = 4, leaseTtl = 30): Promise<BenchRow> {
  const harness = await new Harness({ nodes, leaseTtl, headDelayMs: 20, pidNamespaces: true }).prepare();
  try {
    const { terms, ...times } = await killHeadAndTime(harness, nodes);
    return {
      benchmark: `head's container killed, ${nodes} nodes, lease TTL ${leaseTtl} s, stand-in Ray`,
      ...times,
      "goal (1 s + head start) ms": 1000,
      "term before → after": terms,
    };
  } finally {
    await harness.cleanup();
  }
}

/**
 * Planned head changes at the default TTL (30 s), stand-in Ray (its stop takes milliseconds;
 * real Ray's takes seconds, added to both figures): `cslr handover` (the use case, over HTTP)
 * and a SIGTERM to the head's agent (what `cslr stop`/`down`/`leave` send), each until a new
 * head is ready and until every worker re-joined it.
 */
export async function benchPlannedHandover(nodes = 4, leaseTtl = 30): Promise<BenchRow> {
  const harness = await new Harness({ nodes, leaseTtl, headDelayMs: 20 }).prepare();
  const newHead = async (term: number) => {
    for (;;) {
      const view = await harness.cluster();
      if (view.head?.ready && view.head.term > term) return view;
      await Bun.sleep(10);
    }
  };
  try {
    await harness.startServer();
    for (let i = 0; i < nodes; i++) harness.startNode(i);
    const before = await harness.formed(nodes - 1, 60_000);
    const askedAt = Date.now();
    const moved = await handOver({ url: harness.url, token: "open-service", to: null, timeoutMs: 60_000 });
    if (!moved.ok) throw new Error(moved.reason);
    const handoverReady = Date.now() - askedAt;
    const rejoined = await harness.formed(nodes - 1, 60_000);
    const handoverJoined = Math.max(...rejoined.workers.map((w) => w.joinedAt)) - askedAt;
    const termAt = Date.now();
    harness.nodes.get(rejoined.head!.node)!.signalGroup("SIGTERM");
    const after = await newHead(rejoined.head!.term);
    const sigtermReady = Date.now() - termAt;
    const formed = await harness.formed(nodes - 2, 60_000);
    return {
      benchmark: `planned head change, ${nodes} nodes, lease TTL ${leaseTtl} s, stand-in Ray`,
      "cslr handover → new head ready ms": handoverReady,
      "cslr handover → all workers re-joined ms": handoverJoined,
      "SIGTERM of the head → new head ready ms": sigtermReady,
      "SIGTERM of the head → all workers re-joined ms": Math.max(...formed.workers.map((w) => w.joinedAt)) - termAt,
      "goal ms": 5000,
      terms: `${before.head!.term} → ${rejoined.head!.term} → ${after.head!.term}`,
    };
  } finally {
    await harness.cleanup();
  }
}

/** Runs all, prints a table each, and returns the rows for docs/development.md. */
export async function benchElection(): Promise<BenchRow[]> {
  const rows = [
    await benchThroughput(),
    await benchHeldConnections(),
    await benchFormation(),
    await benchFailover(),
    await benchContainerKill(),
    await benchPlannedHandover(),
  ];
  for (const row of rows) {
    console.log(`\n${row.benchmark}`);
    console.table(Object.fromEntries(Object.entries(row).filter(([k]) => k !== "benchmark")));
  }
  return rows;
}

if (import.meta.main) await benchElection();
