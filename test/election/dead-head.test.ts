/**
 * Fast failover when the head's container dies (issue 16): the head's agent, PID 1 of its
 * container, holds a fate-shared watch; the kernel closes that connection when the agent
 * exits, and Ray dies with it. The service then ends the lease after a short grace instead of
 * the TTL. Real sockets; the client side's close is what the kernel does at the agent's exit.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { nodeKey } from "../../src/election/auth.ts";
import { startElectionServer, type ElectionServer } from "../../src/election/server.ts";
import { deathGraceMs } from "../../src/election/service.ts";

const token = "s3cret-token";
let server: ElectionServer | undefined;
const logs: string[] = [];

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function start(): ElectionServer {
  // A TTL far longer than the test: only the dead-head path can end the lease in time.
  server = startElectionServer({ host: "127.0.0.1", port: 0, whitelist: ["a", "b"], leaseTtlMs: 600_000, token, log: (line) => logs.push(line) });
  return server;
}

function as(node: string, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${server!.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${nodeKey(token, node)}` }, body: JSON.stringify(body), signal });
}

async function claim(node: string): Promise<{ role: string; term: number }> {
  return (await as(node, "/v1/claim", { node, address: `${node}:6379` })).json() as Promise<{ role: string; term: number }>;
}

/** `a` is the ready head of term 1 and holds a watch; returns the watch's abort (the agent's death). */
async function headWithWatch(fateShared: boolean | undefined): Promise<AbortController> {
  expect(await claim("a")).toMatchObject({ role: "head", term: 1 });
  expect((await as("a", "/v1/ready", { node: "a", term: 1 })).status).toBe(200);
  const dies = new AbortController();
  const body = fateShared === undefined ? { node: "a", term: 1 } : { node: "a", term: 1, fateShared };
  void as("a", "/v1/watch", body, dies.signal).catch(() => undefined);
  await Bun.sleep(200);
  return dies;
}

describe("a head whose fate-shared watch closes is dead", () => {
  test("its lease ends after the grace, not the TTL: the next whitelisted claimant is head", async () => {
    start();
    const dies = await headWithWatch(true);
    dies.abort();
    // Within the grace the lease still holds (the rest of the head's PID namespace is being killed).
    expect((await claim("b")).role).toBe("worker");
    await Bun.sleep(deathGraceMs + 400);
    expect(await claim("b")).toMatchObject({ role: "head", term: 2 });
    expect(logs.some((l) => l.includes("event=dead") || l.includes('"dead"'))).toBe(true);
  });

  test("a watch that does not say its fate is shared (an agent that is not PID 1) ends nothing", async () => {
    start();
    const dies = await headWithWatch(undefined);
    dies.abort();
    await Bun.sleep(deathGraceMs + 400);
    expect((await claim("b")).role).toBe("worker");
  });

  test("a head heard from within the grace was alive after all: its lease stays", async () => {
    start();
    const dies = await headWithWatch(true);
    dies.abort();
    expect((await as("a", "/v1/heartbeat", { node: "a", term: 1 })).status).toBe(200);
    await Bun.sleep(deathGraceMs + 400);
    expect((await claim("b")).role).toBe("worker");
  });
});
