/**
 * Strangers cannot stall the election: a flood of slow bodies (request line, Content-Length:
 * 1000, one byte, then silence) against the real service on loopback, bounded in count and
 * time, while a real node client holds the head lease with its heartbeats.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { admissionOf, nodeHeader, Slots } from "../../src/election/admission.ts";
import { nodeKey } from "../../src/election/auth.ts";
import { ping } from "../../src/election/client.ts";
import { startElectionServer, type ElectionServer } from "../../src/election/server.ts";
import { NodeClient } from "../../src/node/client.ts";

const token = "flood-test-token";
let server: ElectionServer | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.end();
  await server?.stop();
  server = undefined;
});

/** Opens `count` connections that each send headers and one body byte of a promised 1000, then hold. */
async function slowBodies(port: number, count: number, extraHeaders = ""): Promise<{ answers: string[] }> {
  const answers: string[] = [];
  for (let i = 0; i < count; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, count - i) }, () =>
        Bun.connect({
          hostname: "127.0.0.1",
          port,
          socket: {
            open: (s) =>
              void s.write(`POST /v1/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${extraHeaders}Content-Length: 1000\r\n\r\n{`),
            data: (_s, chunk) => void answers.push(chunk.toString().split("\r\n")[0]!),
            error() {},
          },
        }),
      ),
    );
    sockets.push(...batch);
  }
  return { answers };
}

describe("election service under a slow-body flood", () => {
  test("2,100 slow bodies from one stranger: the head's heartbeats are all answered and it never steps down", async () => {
    // Generous deadlines: a loaded machine must not pass for a stalled service (on main the answers are 503s).
    server = startElectionServer({ host: "127.0.0.1", port: 0, whitelist: ["head-a"], leaseTtlMs: 10_000, token, log: () => {} });
    const client = new NodeClient({ url: server.url, node: "head-a", key: nodeKey(token, "head-a"), timeoutMs: 5000 });
    const claim = await client.claim("127.0.0.1:6379");
    expect(claim).toMatchObject({ kind: "ok", value: { role: "head" } });
    const term = (claim as { value: { term: number } }).value.term;
    expect((await client.ready(term)).kind).toBe("ok");

    const flood = await slowBodies(server.port, 2100);
    const outcomes: string[] = [];
    // Bounded in time: 20 heartbeats in about 3 s.
    for (let i = 0; i < 20; i++) {
      const beat = await client.heartbeat(term);
      outcomes.push(beat.kind === "ok" ? "ok" : `${beat.kind}: ${"reason" in beat ? beat.reason : ""}`);
      await Bun.sleep(150);
    }
    expect(outcomes.filter((o) => o !== "ok")).toEqual([]);
    expect(server.service.cluster().head).toMatchObject({ node: "head-a", term, ready: true });
    expect(await ping(server.url, 5)).toBe(true);
    // The stranger got at most its per-peer share; the rest were told at once.
    expect(flood.answers.filter((a) => / 429 /.test(a)).length).toBeGreaterThan(2000);
  }, 60_000);

  test("a slow body that names a node with a wrong key is refused before its body; one too slow gets 408", async () => {
    server = startElectionServer({ host: "127.0.0.1", port: 0, whitelist: ["head-a"], leaseTtlMs: 1500, token, log: () => {}, bodyDeadlineMs: 300 });
    const wrongKey = await slowBodies(server.port, 1, `${nodeHeader}: head-a\r\nAuthorization: Bearer not-the-key\r\n`);
    const slow = await slowBodies(server.port, 1);
    for (let i = 0; i < 100 && (wrongKey.answers.length === 0 || slow.answers.length === 0); i++) await Bun.sleep(20);
    expect(wrongKey.answers).toEqual(["HTTP/1.1 401 Unauthorized"]);
    expect(slow.answers).toEqual(["HTTP/1.1 408 Request Timeout"]);
  });
});

describe("admission from headers alone", () => {
  const key = nodeKey(token, "n1");
  const rows: { name: string; path: string; headers: Record<string, string>; kind: string }[] = [
    { name: "node with its key", path: "/v1/heartbeat", headers: { authorization: `Bearer ${key}`, [nodeHeader]: "n1" }, kind: "lease" },
    { name: "worker long-poll with its key", path: "/v1/head", headers: { authorization: `Bearer ${key}`, [nodeHeader]: "n1" }, kind: "lease" },
    { name: "node naming another node", path: "/v1/heartbeat", headers: { authorization: `Bearer ${key}`, [nodeHeader]: "n2" }, kind: "refused" },
    { name: "node header that is no name", path: "/v1/claim", headers: { authorization: `Bearer ${key}`, [nodeHeader]: "n1;rm -rf" }, kind: "refused" },
    { name: "agent without the header", path: "/v1/heartbeat", headers: { authorization: `Bearer ${key}` }, kind: "anonymous" },
    { name: "cluster token", path: "/v1/hosts/leave", headers: { authorization: `Bearer ${token}` }, kind: "admin" },
    { name: "node header on an admin path", path: "/v1/hosts/leave", headers: { authorization: `Bearer ${key}`, [nodeHeader]: "n1" }, kind: "anonymous" },
    { name: "nothing", path: "/v1/cluster", headers: {}, kind: "anonymous" },
  ];
  test.each(rows)("$name → $kind", (row) => {
    expect(admissionOf(row.path, new Headers(row.headers), token).kind).toBe(row.kind as never);
  });

  test("slots: a peer's share, the shared cap, and node calls beside them", () => {
    const slots = new Slots({ maxInFlight: 3, maxPerPeer: 2 });
    const a1 = slots.take("anonymous", "10.0.0.1");
    expect(typeof slots.take("anonymous", "10.0.0.1")).toBe("function");
    expect(slots.take("anonymous", "10.0.0.1")).toMatchObject({ status: 429 });
    expect(typeof slots.take("admin", "10.0.0.2")).toBe("function");
    expect(slots.take("anonymous", "10.0.0.3")).toMatchObject({ status: 503 });
    expect(typeof slots.take("lease", "10.0.0.1")).toBe("function");
    (a1 as () => void)();
    (a1 as () => void)();
    expect(slots.inFlight).toBe(3);
    expect(typeof slots.take("anonymous", "10.0.0.1")).toBe("function");
  });
});
