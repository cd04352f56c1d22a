/** The election service over real sockets: validation, per-node auth, limits, long-poll, persistence. */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeKey } from "../../src/election/auth.ts";
import { ping, readCluster } from "../../src/election/client.ts";
import { startElectionServer, type ElectionServer, type ElectionServerOptions } from "../../src/election/server.ts";
import { grantMarginMs } from "../../src/election/state.ts";
import { writeStateFile } from "../../src/election/store.ts";
import { seededRandom, seeds } from "../helpers/random.ts";

const dir = mkdtempSync(join(tmpdir(), "cslr-election-server-"));
const token = "s3cret-token";
let server: ElectionServer | undefined;
const logs: string[] = [];
/** The service's monotonic clock, moved by the tests instead of sleeping. */
const clock = { t: 10_000 };

function start(extra: Partial<ElectionServerOptions> = {}): ElectionServer {
  server = startElectionServer({
    host: "127.0.0.1",
    port: 0,
    whitelist: ["a", "b"],
    leaseTtlMs: 5000,
    log: (line) => logs.push(line),
    now: () => clock.t,
    ...extra,
  });
  return server;
}

afterEach(async () => {
  await server?.stop();
  server = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A node's own call, with its own key. */
function as(node: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server!.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${nodeKey(token, node)}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function cluster(auth = token) {
  const result = await readCluster(server!.url, { token: auth });
  if ("error" in result) throw new Error(result.error);
  return result.roster;
}

/** One raw HTTP exchange over TCP, for bytes fetch refuses to send. */
async function raw(bytes: Uint8Array | string): Promise<string> {
  let text = "";
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port: server!.port,
    socket: {
      data(_s, chunk) {
        text += chunk.toString();
        if (/\r\n\r\n/.test(text)) done();
      },
      close: () => done(),
      end: () => done(),
      error: () => done(),
    },
  });
  socket.write(bytes);
  await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 2000))]);
  socket.end();
  return text;
}

describe("election service: bad requests get 4xx and the service keeps answering", () => {
  const key = { authorization: `Bearer ${nodeKey(token, "a")}` };
  const rows: { name: string; path: string; body: string; headers?: Record<string, string>; status: number; error?: RegExp }[] = [
    { name: "malformed JSON", path: "/v1/claim", body: "{node:", status: 400, error: /not valid JSON/ },
    { name: "not an object", path: "/v1/claim", body: "[1,2]", status: 400 },
    { name: "wrong type of node", path: "/v1/claim", body: JSON.stringify({ node: 5, address: "a:1" }), status: 400, error: /^node: / },
    { name: "missing address", path: "/v1/claim", body: JSON.stringify({ node: "a" }), status: 400, error: /address: missing/ },
    { name: "unknown field", path: "/v1/claim", body: JSON.stringify({ node: "a", address: "a:1", role: "head" }), status: 400, error: /unknown field "role"/ },
    { name: "hostile node name", path: "/v1/claim", body: JSON.stringify({ node: "a;rm -rf /", address: "a:1" }), status: 400, error: /node name/ },
    { name: "node name with newline", path: "/v1/join", body: JSON.stringify({ node: "a\nROLE=head", address: "a" }), status: 400 },
    { name: "whitelisted claim without a port", path: "/v1/claim", body: JSON.stringify({ node: "a", address: "a" }), status: 400, error: /host:port/ },
    { name: "term as a string", path: "/v1/heartbeat", body: JSON.stringify({ node: "a", term: "1" }), status: 400, error: /^term: / },
    { name: "fractional term", path: "/v1/ready", body: JSON.stringify({ node: "a", term: 1.5 }), status: 400 },
    { name: "term beyond 2^53", path: "/v1/ready", body: '{"node":"a","term":9007199254740993}', status: 400 },
    { name: "oversized body", path: "/v1/claim", body: JSON.stringify({ node: "a", address: "x".repeat(20_000) }), status: 413 },
    { name: "missing key", path: "/v1/claim", body: JSON.stringify({ node: "a", address: "a:1" }), headers: { authorization: "" }, status: 401 },
    { name: "wrong key", path: "/v1/claim", body: JSON.stringify({ node: "a", address: "a:1" }), headers: { authorization: "Bearer nope" }, status: 401 },
    { name: "another node's key", path: "/v1/claim", body: JSON.stringify({ node: "b", address: "b:1" }), headers: key, status: 401 },
    {
      name: "the cluster token where a node key is due",
      path: "/v1/claim",
      body: JSON.stringify({ node: "a", address: "a:1" }),
      headers: { authorization: `Bearer ${token}` },
      status: 401,
    },
    { name: "leave without the cluster token", path: "/v1/hosts/leave", body: JSON.stringify({ host: "ws1" }), headers: key, status: 401 },
    { name: "unknown path", path: "/v1/nope", body: "{}", status: 404 },
  ];

  test("table of bad requests, then a correct election", async () => {
    start({ token });
    for (const row of rows) {
      const res = await fetch(`${server!.url}${row.path}`, { method: "POST", headers: { ...key, ...row.headers }, body: row.body });
      const body = (await res.json()) as { ok: boolean; error: string };
      expect({ name: row.name, status: res.status }).toEqual({ name: row.name, status: row.status });
      expect(body.ok).toBe(false);
      if (row.error) expect(body.error).toMatch(row.error);
    }
    const claim = await as("a", "/v1/claim", { node: "a", address: "a:6379" });
    expect(claim.status).toBe(200);
    expect(await claim.json()).toMatchObject({ role: "head", term: 1 });
  });

  test("random bytes and broken HTTP never crash the service (seeded)", async () => {
    start({ token });
    for (const seed of seeds(20, "random bytes at the election service")) {
      const random = seededRandom(seed);
      const bytes = Uint8Array.from({ length: 4096 }, () => Math.floor(random() * 256));
      await raw(bytes);
    }
    const truncated = await raw(`POST /v1/claim HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"node":`);
    expect(truncated).not.toMatch(/^HTTP\/1\.1 5/);
    const chunkedHuge = await raw(
      `POST /v1/claim HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${"4000\r\n" + "x".repeat(0x4000) + "\r\n"}${"4000\r\n" + "y".repeat(0x4000) + "\r\n"}0\r\n\r\n`,
    );
    expect(chunkedHuge).toMatch(/^HTTP\/1\.1 413/);
    expect(await ping(server!.url, 1)).toBe(true);
    expect((await as("b", "/v1/claim", { node: "b", address: "b:6379" })).status).toBe(200);
  });

  test("without a token every call is open; wrong methods and bad queries are 4xx", async () => {
    start();
    expect((await fetch(`${server!.url}/v1/claim`, { method: "POST", body: JSON.stringify({ node: "a", address: "a:1" }) })).status).toBe(200);
    expect((await fetch(`${server!.url}/v1/cluster`)).status).toBe(200);
    expect((await fetch(`${server!.url}/v1/claim`)).status).toBe(405);
    expect((await fetch(`${server!.url}/v1/head?wait=abc`)).status).toBe(400);
  });
});

describe("election service: credentials that fit their holders", () => {
  test("a node can release only its own lease; the public roster has no term or lease detail", async () => {
    start({ token });
    await as("a", "/v1/claim", { node: "a", address: "a:6379" });
    await as("a", "/v1/ready", { node: "a", term: 1 });
    // A Ray task on another node knows the head's name and can guess the term; without a's key it cannot fence it.
    expect((await as("b", "/v1/release", { node: "a", term: 1 })).status).toBe(401);
    const open = (await (await fetch(`${server!.url}/v1/cluster`)).json()) as Record<string, unknown> & { head: Record<string, unknown> };
    expect(open.term).toBeUndefined();
    expect(open.head.term).toBeUndefined();
    expect(open.head.leaseRemainingMs).toBeUndefined();
    expect(open.head).toMatchObject({ node: "a", address: "a:6379", ready: true });
    const full = await cluster();
    expect(full.term).toBe(1);
    expect(full.head?.term).toBe(1);
    expect((await as("a", "/v1/release", { node: "a", term: 1 })).status).toBe(200);
  });
});

describe("election service: protocol", () => {
  test("a long-poll answers as soon as the head reports ready", async () => {
    start();
    await as("a", "/v1/claim", { node: "a", address: "a:6379" });
    const waiting = fetch(`${server!.url}/v1/head?wait=10`).then((r) => r.json());
    let answered = false;
    void waiting.then(() => (answered = true));
    // The poll is registered once the service holds a waiter; only then is ready sent.
    for (let i = 0; i < 200 && server!.service.waiting === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(answered).toBe(false);
    await as("a", "/v1/ready", { node: "a", term: 1 });
    expect(await waiting).toEqual({ ready: true, node: "a", address: "a:6379" });
  });

  test("a long-poll without a head ends with ready false", async () => {
    start();
    expect(await (await fetch(`${server!.url}/v1/head?wait=0.05`)).json()).toEqual({ ready: false });
  });

  test("release hands the lease over at once; the roster shows head and workers; a clean stop leaves it", async () => {
    start();
    await as("a", "/v1/claim", { node: "a", address: "a:6379", host: "ws1" });
    await as("a", "/v1/ready", { node: "a", term: 1 });
    expect(await (await as("w1", "/v1/join", { node: "w1", address: "10.0.0.7", host: "ws2" })).json()).toEqual({
      ok: true,
      term: 1,
      head: "a:6379",
      leaseTtlMs: 5000,
    });
    const roster = await cluster();
    expect(roster.head).toMatchObject({ node: "a", host: "ws1", term: 1, ready: true });
    expect(roster.workers.map((w) => [w.node, w.host])).toEqual([["w1", "ws2"]]);
    expect((await as("w1", "/v1/part", { node: "w1" })).status).toBe(200);
    expect((await cluster()).workers).toEqual([]);
    expect((await as("a", "/v1/release", { node: "a", term: 1 })).status).toBe(200);
    expect(await (await as("b", "/v1/claim", { node: "b", address: "b:6379" })).json()).toMatchObject({ role: "head", term: 2 });
  });

  test("one structured log line per decision", async () => {
    logs.length = 0;
    start();
    await as("a", "/v1/claim", { node: "a", address: "a:6379" });
    await as("b", "/v1/claim", { node: "b", address: "b:6379" });
    await as("b", "/v1/claim", { node: "b", address: "b:6379" });
    const lines = logs.map((l) => JSON.parse(l));
    expect(lines).toEqual([
      expect.objectContaining({ event: "claim", node: "a", role: "head", term: 1, why: expect.any(String) }),
      expect.objectContaining({ event: "claim", node: "b", role: "wait", term: 1 }),
    ]);
  });

  test("healthz says which version answers", async () => {
    start();
    const body = (await (await fetch(`${server!.url}/healthz`)).json()) as { ok: boolean; version: string };
    expect(body.ok).toBe(true);
    expect(body.version).toBe((await Bun.file(join(import.meta.dir, "../../package.json")).json()).version);
  });
});

describe("election service: limits", () => {
  // Bun closes a keep-alive connection idle past idleTimeout (checked every 4 s); one that never
  // finishes its request after about 10 s, whatever the setting. Both are bounded.
  test("idle keep-alive connections are closed after the idle timeout; /healthz keeps answering with many held", async () => {
    start({ idleTimeoutSeconds: 1 });
    let closedByServer = 0;
    const sockets = await Promise.all(
      Array.from({ length: 100 }, () =>
        Bun.connect({
          hostname: "127.0.0.1",
          port: server!.port,
          // One request, then silence: an idle keep-alive client.
          socket: { open: (s) => void s.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), data() {}, close: () => void (closedByServer += 1) },
        }),
      ),
    );
    expect(await ping(server!.url, 1)).toBe(true);
    for (let i = 0; i < 140 && closedByServer < sockets.length; i++) await new Promise((r) => setTimeout(r, 50));
    for (const s of sockets) s.end();
    expect(closedByServer).toBeGreaterThanOrEqual(sockets.length);
  });

  test("more requests in flight than the limit: 503 at once, /healthz still answers", async () => {
    start({ maxInFlight: 2 });
    const held = [fetch(`${server!.url}/v1/head?wait=2`), fetch(`${server!.url}/v1/head?wait=2`)];
    for (let i = 0; i < 200 && server!.service.waiting < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect((await fetch(`${server!.url}/v1/cluster`)).status).toBe(503);
    expect(await ping(server!.url, 1)).toBe(true);
    await server!.stop();
    server = undefined;
    await Promise.allSettled(held);
  });
});

describe("election service: state file", () => {
  test("a restarted service keeps the head and its term; the next grant is term + 1", async () => {
    const statePath = join(dir, "restart.json");
    // A wall clock at 0: the first start's term floor (below) stays out of the numbers here.
    start({ statePath, wallNow: () => 0 });
    await as("a", "/v1/claim", { node: "a", address: "a:6379" });
    await as("a", "/v1/ready", { node: "a", term: 1 });
    await server!.stop();
    expect(JSON.parse(readFileSync(statePath, "utf8"))).toMatchObject({ version: 2, term: 1, head: { node: "a", ready: true } });

    start({ statePath, leaseTtlMs: 300, wallNow: () => 0 });
    expect(await (await as("b", "/v1/claim", { node: "b", address: "b:6379" })).json()).toEqual({
      ok: true,
      role: "worker",
      term: 1,
      address: "a:6379",
      leaseTtlMs: 300,
    });
    expect((await as("a", "/v1/heartbeat", { node: "a", term: 1 })).status).toBe(200);
    // The holder stops heartbeating: its restored lease expires as usual, and b is granted after the margin.
    clock.t += 300 + grantMarginMs(300);
    expect(await (await as("b", "/v1/claim", { node: "b", address: "b:6379" })).json()).toMatchObject({ role: "head", term: 2 });
    expect((await as("a", "/v1/heartbeat", { node: "a", term: 1 })).status).toBe(409);
  });

  test("a service without its state file (a new volume) starts terms above the wall clock: the old head's term never matches a new grant", async () => {
    const statePath = join(mkdtempSync(join(dir, "lost-volume-")), "election.json");
    logs.length = 0;
    start({ statePath, wallNow: () => 1_800_000_000_000 });
    expect(await (await as("a", "/v1/claim", { node: "a", address: "a:6379" })).json()).toMatchObject({ role: "head", term: 1_800_000_000_001 });
    expect(logs.some((l) => JSON.parse(l).event === "state-fresh")).toBe(true);
    await server!.stop();
    // The volume is deleted; a new service on a clock that moved on grants b.
    rmSync(statePath);
    start({ statePath, wallNow: () => 1_800_000_060_000 });
    expect(await (await as("b", "/v1/claim", { node: "b", address: "b:6379" })).json()).toMatchObject({ role: "head", term: 1_800_000_060_001 });
    // a still thinks it holds term 1_800_000_000_001: fenced, never mistaken for the new grant.
    expect((await as("a", "/v1/heartbeat", { node: "a", term: 1_800_000_000_001 })).status).toBe(409);
    expect(JSON.parse(readFileSync(statePath, "utf8"))).toMatchObject({ term: 1_800_000_060_001 });
  });

  test("a state file written by cslr 0.1 (version 1) is upgraded: same head, same term", async () => {
    const statePath = join(dir, "v1.json");
    writeFileSync(
      statePath,
      JSON.stringify({
        version: 1,
        term: 7,
        head: { node: "a", address: "a:6379", term: 7, ready: true, grantedAt: 1, readyAt: 2, leaseExpiresAt: 3 },
        workers: [{ node: "w", address: "w", term: 7, joinedAt: 1, lastSeen: 2 }],
      }),
    );
    start({ statePath });
    expect(await (await as("b", "/v1/claim", { node: "b", address: "b:6379" })).json()).toMatchObject({ role: "worker", term: 7, address: "a:6379" });
  });

  test("a corrupt state file is moved aside; terms continue above a floor; no grant for a TTL plus the margin", async () => {
    const statePath = join(mkdtempSync(join(dir, "corrupt-")), "election.json");
    writeFileSync(statePath, `{"version":2,"term":41,"head":nu`);
    logs.length = 0;
    start({ statePath, leaseTtlMs: 1000, wallNow: () => 1_800_000_000_000 });
    expect(readdirSync(join(statePath, "..")).some((f) => f.startsWith("election.json.corrupt-"))).toBe(true);
    expect(logs.some((l) => JSON.parse(l).event === "state-lost")).toBe(true);
    expect(await (await as("a", "/v1/claim", { node: "a", address: "a:6379" })).json()).toMatchObject({ role: "wait" });
    clock.t += 1000 + grantMarginMs(1000);
    expect(await (await as("a", "/v1/claim", { node: "a", address: "a:6379" })).json()).toMatchObject({ role: "head", term: 1_800_000_000_001 });
  });

  test("a disk that fills: the change is refused (503) and rolled back, healthz says why, the old state stays valid, and it recovers", async () => {
    const statePath = join(dir, "full.json");
    let full = false;
    logs.length = 0;
    start({
      statePath,
      wallNow: () => 0,
      writeState: (path, snapshot) => {
        if (full) throw new Error("ENOSPC: no space left on device, write");
        writeStateFile(path, snapshot);
      },
    });
    await as("a", "/v1/claim", { node: "a", address: "a:6379" });
    full = true;
    const refused = await as("w1", "/v1/join", { node: "w1", address: "w1" });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: string }).error).toMatch(/ENOSPC/);
    const health = await fetch(`${server!.url}/healthz`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { error: string }).error).toMatch(/ENOSPC/);
    expect(JSON.parse(readFileSync(statePath, "utf8"))).toMatchObject({ term: 1, head: { node: "a" }, members: [] });
    expect(logs.filter((l) => JSON.parse(l).event === "state-unwritable")).toHaveLength(1);
    expect((await cluster()).workers).toEqual([]);
    full = false;
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect((await fetch(`${server!.url}/healthz`)).status).toBe(200);
    expect((await as("w1", "/v1/join", { node: "w1", address: "w1" })).status).toBe(200);
  });

  test("a real 8 KiB tmpfs: joins that do not fit are refused, nothing half-written", async () => {
    if (process.getuid?.() !== 0) {
      console.log("[skip] 8 KiB tmpfs test: needs root to mount a tmpfs");
      return;
    }
    const mountPoint = mkdtempSync(join(tmpdir(), "cslr-tiny-"));
    const mount = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", mountPoint]);
    if (mount.exitCode !== 0) {
      console.log(`[skip] 8 KiB tmpfs test: mount failed (${mount.stderr.toString().trim()})`);
      return;
    }
    try {
      const statePath = join(mountPoint, "election.json");
      start({ statePath, whitelist: ["a"] });
      await as("a", "/v1/claim", { node: "a", address: "a:6379" });
      await as("a", "/v1/ready", { node: "a", term: 1 });
      const statuses: number[] = [];
      for (let i = 0; i < 200; i++) statuses.push((await as(`worker-${i}`, "/v1/join", { node: `worker-${i}`, address: `10.0.${i >> 8}.${i & 255}` })).status);
      expect(statuses).toContain(200);
      expect(statuses).toContain(503);
      // Every answer of 200 is on disk, and the file is whole JSON.
      const saved = JSON.parse(readFileSync(statePath, "utf8")) as { members: unknown[] };
      expect(saved.members).toHaveLength(statuses.filter((s) => s === 200).length);
      expect((await fetch(`${server!.url}/healthz`)).status).toBe(503);
    } finally {
      await server?.stop();
      server = undefined;
      Bun.spawnSync(["umount", mountPoint]);
      rmSync(mountPoint, { recursive: true, force: true });
    }
  });

  test("temporary files of writes a killed service left are removed at start; others stay", async () => {
    const folder = mkdtempSync(join(dir, "stale-"));
    const statePath = join(folder, "election.json");
    for (const name of [".election.json.4242.tmp", ".election.json.17.tmp", "notes.tmp", ".other.json.5.tmp"]) writeFileSync(join(folder, name), "{");
    start({ statePath, wallNow: () => 0 });
    expect(readdirSync(folder).sort()).toEqual([".other.json.5.tmp", "election.json", "notes.tmp"]);
  });

  test.skipIf(process.getuid?.() !== 0)("a corrupt state file on a read-only volume: one line saying so, not a failure to listen", () => {
    const ro = mkdtempSync(join(tmpdir(), "cslr-ro-corrupt-"));
    writeFileSync(join(ro, "election.json"), '{"version":2,"term":');
    const bind = Bun.spawnSync(["mount", "--bind", ro, ro]);
    if (bind.exitCode !== 0) {
      console.log(`[skip] read-only corrupt state test: bind mount failed (${bind.stderr.toString().trim()})`);
      return;
    }
    Bun.spawnSync(["mount", "-o", "remount,bind,ro", ro]);
    try {
      let error: Error | undefined;
      try {
        start({ statePath: join(ro, "election.json") });
      } catch (e) {
        error = e as Error;
      }
      expect(error?.name).toBe("CslrError");
      expect(error?.message).toMatch(
        /^\/.*election\.json: the election state is unreadable \(not valid JSON .*\) and cannot be moved aside \(EROFS\); make its folder writable/,
      );
    } finally {
      Bun.spawnSync(["umount", ro]);
      rmSync(ro, { recursive: true, force: true });
    }
  });

  test("a read-only state folder: grants are refused with the reason, healthz is unhealthy", async () => {
    if (process.getuid?.() === 0) {
      // root ignores file modes; a read-only bind mount is the honest way.
      const ro = mkdtempSync(join(tmpdir(), "cslr-ro-"));
      const bind = Bun.spawnSync(["mount", "--bind", "-o", "ro", ro, ro]);
      if (bind.exitCode !== 0) {
        console.log(`[skip] read-only folder test: bind mount failed (${bind.stderr.toString().trim()})`);
        return;
      }
      Bun.spawnSync(["mount", "-o", "remount,bind,ro", ro]);
      try {
        start({ statePath: join(ro, "election.json") });
        const res = await as("a", "/v1/claim", { node: "a", address: "a:6379" });
        expect(res.status).toBe(503);
        expect(((await res.json()) as { error: string }).error).toMatch(/EROFS|read-only/);
        expect((await fetch(`${server!.url}/healthz`)).status).toBe(503);
      } finally {
        await server?.stop();
        server = undefined;
        Bun.spawnSync(["umount", ro]);
        rmSync(ro, { recursive: true, force: true });
      }
      return;
    }
    const ro = join(dir, "readonly");
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    start({ statePath: join(ro, "election.json") });
    expect((await as("a", "/v1/claim", { node: "a", address: "a:6379" })).status).toBe(503);
    expect(existsSync(join(ro, "election.json"))).toBe(false);
  });
});
