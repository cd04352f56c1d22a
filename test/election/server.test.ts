/** The HTTP shell over real sockets: validation, auth, limits, long-poll, persistence. */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeText } from "../../src/election/protocol.ts";
import { startElectionServer, type ElectionServer } from "../../src/election/server.ts";
import { ping, readCluster, waitForHead } from "../../src/election/client.ts";

async function getCluster(url: string) {
  const result = await readCluster(url);
  if ("error" in result) throw new Error(result.error);
  return result.roster;
}

const dir = mkdtempSync(join(tmpdir(), "cslr-election-server-"));
const token = "s3cret-token";
let server: ElectionServer | undefined;
const logs: string[] = [];

function start(extra: { token?: string; statePath?: string; leaseTtlMs?: number } = {}): ElectionServer {
  server = startElectionServer({
    host: "127.0.0.1",
    port: 0,
    whitelist: ["a", "b"],
    leaseTtlMs: extra.leaseTtlMs ?? 5000,
    token: extra.token,
    statePath: extra.statePath,
    log: (line) => logs.push(line),
  });
  return server;
}

afterEach(async () => {
  await server?.stop();
  server = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server!.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
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
  await Promise.race([finished, Bun.sleep(2000)]);
  socket.end();
  return text;
}

describe("election service: bad requests get 4xx and the service keeps answering", () => {
  const rows: { name: string; path: string; body: string; headers?: Record<string, string>; status: number; error?: RegExp }[] = [
    { name: "malformed JSON", path: "/v1/claim", body: "{node:", status: 400, error: /not valid JSON/ },
    { name: "not an object", path: "/v1/claim", body: "[1,2]", status: 400 },
    { name: "wrong type of node", path: "/v1/claim", body: JSON.stringify({ node: 5, address: "a:1" }), status: 400, error: /^node: / },
    { name: "missing address", path: "/v1/claim", body: JSON.stringify({ node: "a" }), status: 400, error: /address: missing/ },
    { name: "unknown field", path: "/v1/claim", body: JSON.stringify({ node: "a", address: "a:1", role: "head" }), status: 400, error: /unknown field "role"/ },
    { name: "hostile node name", path: "/v1/claim", body: JSON.stringify({ node: "a;rm -rf /", address: "a:1" }), status: 400, error: /hostname/ },
    { name: "node name with newline", path: "/v1/join", body: JSON.stringify({ node: "a\nROLE=head", address: "a" }), status: 400 },
    { name: "whitelisted claim without a port", path: "/v1/claim", body: JSON.stringify({ node: "a", address: "a" }), status: 400, error: /host:port/ },
    { name: "term as a string", path: "/v1/heartbeat", body: JSON.stringify({ node: "a", term: "1" }), status: 400, error: /^term: / },
    { name: "fractional term", path: "/v1/ready", body: JSON.stringify({ node: "a", term: 1.5 }), status: 400 },
    { name: "oversized body", path: "/v1/claim", body: JSON.stringify({ node: "a", address: "x".repeat(20_000) }), status: 413 },
    { name: "missing token", path: "/v1/claim", body: JSON.stringify({ node: "a", address: "a:1" }), headers: { authorization: "" }, status: 401 },
    { name: "wrong token", path: "/v1/claim", body: JSON.stringify({ node: "a", address: "a:1" }), headers: { authorization: "Bearer nope" }, status: 401 },
    { name: "unknown path", path: "/v1/nope", body: "{}", status: 404 },
  ];

  test("table of bad requests, then a correct election", async () => {
    start({ token });
    for (const row of rows) {
      const res = await post(row.path, row.body, row.headers);
      const body = (await res.json()) as { ok: boolean; error: string };
      expect({ name: row.name, status: res.status }).toEqual({ name: row.name, status: row.status });
      expect(body.ok).toBe(false);
      if (row.error) expect(body.error).toMatch(row.error);
    }
    const claim = await post("/v1/claim", { node: "a", address: "a:6379" });
    expect(claim.status).toBe(200);
    expect(await claim.json()).toMatchObject({ role: "head", term: 1 });
  });

  test("random bytes and broken HTTP never crash the service", async () => {
    start({ token });
    const random = new Uint8Array(4096);
    for (let i = 0; i < 20; i++) {
      crypto.getRandomValues(random);
      await raw(random);
    }
    const truncated = await raw(`POST /v1/claim HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 100\r\n\r\n{"node":`);
    expect(truncated).not.toMatch(/^HTTP\/1\.1 5/);
    const chunkedHuge = await raw(
      `POST /v1/claim HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nTransfer-Encoding: chunked\r\n\r\n${"4000\r\n" + "x".repeat(0x4000) + "\r\n"}${"4000\r\n" + "y".repeat(0x4000) + "\r\n"}0\r\n\r\n`,
    );
    expect(chunkedHuge).toMatch(/^HTTP\/1\.1 413/);
    expect(await ping(server!.url, 1)).toBe(true);
    expect((await post("/v1/claim", { node: "b", address: "b:6379" })).status).toBe(200);
  });

  test("state-changing calls are open when no token is configured; GETs always are", async () => {
    start();
    expect((await post("/v1/claim", { node: "a", address: "a:1" }, { authorization: "" })).status).toBe(200);
    expect((await fetch(`${server!.url}/v1/cluster`)).status).toBe(200);
    expect((await fetch(`${server!.url}/v1/claim`)).status).toBe(405);
    expect((await fetch(`${server!.url}/v1/head?wait=abc`)).status).toBe(400);
  });
});

describe("election service: protocol", () => {
  test("text/plain answers are KEY=value lines for the bash entrypoint", async () => {
    start();
    const res = await post("/v1/claim", { node: "a", address: "a:6379" }, { accept: "text/plain" });
    expect(res.headers.get("content-type")).toStartWith("text/plain");
    expect(decodeText(await res.text())).toEqual({ OK: "1", ROLE: "head", TERM: "1", LEASE_TTL_MS: "5000", LEASE_EXPIRES_AT: expect.any(String) });
    const fenced = await post("/v1/heartbeat", { node: "a", term: 9 }, { accept: "text/plain" });
    expect(fenced.status).toBe(409);
    expect(decodeText(await fenced.text())).toMatchObject({ OK: "0", TERM: "1" });
  });

  test("a long-poll answers as soon as the head reports ready", async () => {
    start();
    await post("/v1/claim", { node: "a", address: "a:6379" });
    const waiting = waitForHead(server!.url, 10);
    const early = await Promise.race([waiting, Bun.sleep(100).then(() => "still waiting")]);
    expect(early).toBe("still waiting");
    await post("/v1/ready", { node: "a", term: 1 });
    expect(await waiting).toEqual({ node: "a", address: "a:6379", term: 1 });
  });

  test("a long-poll without a head times out with ready=0", async () => {
    start();
    const res = await fetch(`${server!.url}/v1/head?wait=0.2`, { headers: { accept: "text/plain" } });
    expect(decodeText(await res.text())).toEqual({ READY: "0", TERM: "0" });
  });

  test("release hands the lease over at once; the roster shows head and workers", async () => {
    start();
    await post("/v1/claim", { node: "a", address: "a:6379" });
    await post("/v1/ready", { node: "a", term: 1 });
    expect(await (await post("/v1/join", { node: "w1", address: "10.0.0.7" })).json()).toEqual({ ok: true, term: 1, head: "a:6379" });
    const cluster = await getCluster(server!.url);
    expect(cluster.head).toMatchObject({ node: "a", term: 1, ready: true });
    expect(cluster.workers.map((w) => w.node)).toEqual(["w1"]);
    expect((await post("/v1/release", { node: "a", term: 1 })).status).toBe(200);
    expect(await (await post("/v1/claim", { node: "b", address: "b:6379" })).json()).toMatchObject({ role: "head", term: 2 });
  });

  test("one structured log line per decision", async () => {
    logs.length = 0;
    start();
    await post("/v1/claim", { node: "a", address: "a:6379" });
    await post("/v1/claim", { node: "b", address: "b:6379" });
    const lines = logs.map((l) => JSON.parse(l));
    expect(lines).toEqual([
      expect.objectContaining({ event: "claim", node: "a", role: "head", term: 1, why: expect.any(String) }),
      expect.objectContaining({ event: "claim", node: "b", role: "wait", term: 1 }),
    ]);
  });
});

describe("client", () => {
  test("waitForHead keeps trying a service that is not up and gives up at its deadline", async () => {
    const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const closedPort = s.port;
    s.stop(true);
    expect(await waitForHead(`http://127.0.0.1:${closedPort}`, 0.3)).toBeNull();
    expect(await ping(`http://127.0.0.1:${closedPort}`, 0.3)).toBe(false);
  });
});

describe("election service: state file", () => {
  test("a restarted service keeps the head and its term; the next grant is term + 1", async () => {
    const statePath = join(dir, "restart.json");
    start({ statePath });
    await post("/v1/claim", { node: "a", address: "a:6379" });
    await post("/v1/ready", { node: "a", term: 1 });
    await server!.stop();
    expect(JSON.parse(readFileSync(statePath, "utf8"))).toMatchObject({ term: 1, head: { node: "a", ready: true } });

    start({ statePath, leaseTtlMs: 300 });
    expect(await (await post("/v1/claim", { node: "b", address: "b:6379" })).json()).toEqual({ ok: true, role: "worker", term: 1, address: "a:6379" });
    expect((await post("/v1/heartbeat", { node: "a", term: 1 })).status).toBe(200);
    // The holder stops heartbeating: its restored lease expires as usual.
    await Bun.sleep(350);
    expect(await (await post("/v1/claim", { node: "b", address: "b:6379" })).json()).toMatchObject({ role: "head", term: 2 });
    expect((await post("/v1/heartbeat", { node: "a", term: 1 })).status).toBe(409);
  });

  test("a damaged state file is a clear error, not a fresh term 0", () => {
    const statePath = join(dir, "damaged.json");
    writeFileSync(statePath, "{not json");
    expect(() => start({ statePath })).toThrow(/damaged\.json: election state is not valid JSON/);
  });

  test("a grant that cannot be written is refused (503) and rolled back", async () => {
    start({ statePath: join(dir, "no-such-dir", "state.json") });
    const res = await post("/v1/claim", { node: "a", address: "a:6379" });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toMatch(/cannot write the election state/);
    expect((await getCluster(server!.url)).term).toBe(0);
  });
});
