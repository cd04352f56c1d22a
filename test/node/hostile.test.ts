/**
 * A hostile election service: a real HTTP server that answers the node agent's calls with shell
 * and arithmetic payloads in every field, malformed, truncated, endless and huge bodies. The
 * agent (with its real client) must treat every one as a protocol error: keep waiting, never
 * start Ray, never run anything, never crash, never exit on its own.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, AgentExit, type AgentIo } from "../../src/node/agent.ts";
import { NodeClient } from "../../src/node/client.ts";
import { parseSettings } from "../../src/node/settings.ts";

const dir = mkdtempSync(join(tmpdir(), "cslr-hostile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const marker = join(dir, "ran");
const shell = [`$(touch ${marker})`, `\`touch ${marker}\``, `R[$(touch ${marker})]`, `1;touch ${marker}`, "STOPPING=1", `a:1$(touch ${marker})`];

type Answer = { status?: number; body: string | (() => ReadableStream) };

function json(value: unknown, status = 200): Answer {
  return { status, body: JSON.stringify(value) };
}

/** Every way an answer to /v1/claim can be wrong. */
const answers: [string, Answer][] = [
  ...shell.map((p): [string, Answer] => [`role ${p}`, json({ role: p, term: 1, leaseTtlMs: 30000 })]),
  ...shell.map((p): [string, Answer] => [`term ${p}`, json({ role: "head", term: p, leaseTtlMs: 30000 })]),
  ...shell.map((p): [string, Answer] => [`worker address ${p}`, json({ role: "worker", term: 1, address: p, leaseTtlMs: 30000 })]),
  ...shell.map((p): [string, Answer] => [`retryAfterMs ${p}`, json({ role: "wait", term: 1, retryAfterMs: p, leaseTtlMs: 30000 })]),
  ["term 2^53 + 1", { body: '{"role":"head","term":9007199254740993,"leaseTtlMs":30000}' }],
  ["term 1e21", json({ role: "head", term: 1e21, leaseTtlMs: 30000 })],
  ["negative term", json({ role: "head", term: -1, leaseTtlMs: 30000 })],
  ["lease TTL 0.0001", json({ role: "head", term: 1, leaseTtlMs: 0.0001 })],
  ["lease TTL 1e21", json({ role: "head", term: 1, leaseTtlMs: 1e21 })],
  ["no term", json({ role: "head", leaseTtlMs: 30000 })],
  ["the old text form", { body: "OK=1\nROLE=head\nTERM=1\n=oops\n" }],
  ["a line starting with =", { body: "=head\n" }],
  ["truncated JSON", { body: '{"role":"head","term":1,"lease' }],
  ["HTML", { body: "<html><body>proxy error</body></html>" }],
  ["an array", json([{ role: "head", term: 1 }])],
  ["10 MB of JSON", { body: `{"role":"head","term":1,"leaseTtlMs":30000,"x":"${"a".repeat(10 * 1024 * 1024)}"}` }],
  [
    "an endless body",
    {
      body: () =>
        new ReadableStream({
          async pull(controller) {
            controller.enqueue(new TextEncoder().encode("{".repeat(4096)));
            await Bun.sleep(1);
          },
        }),
    },
  ],
  ["409 without a term", { status: 409, body: '{"ok":false}' }],
  ["500 with shell in the error", json({ ok: false, error: `$(touch ${marker})` }, 500)],
];

async function runAgainst(answer: Answer): Promise<{ startedRay: boolean; exited: number | "running"; lines: string[] }> {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/v1/head") return Response.json({ ready: false });
      const body = typeof answer.body === "function" ? answer.body() : answer.body;
      return new Response(body, { status: answer.status ?? 200, headers: { "content-type": "application/json" } });
    },
  });
  const settings = parseSettings({ CSLR_HEALTH_URL: `http://127.0.0.1:${server.port}`, CSLR_NODE_NAME: "ray-cpu", CSLR_HEALTH_TIMEOUT: "1" }, "x");
  let startedRay = false;
  const lines: string[] = [];
  const io: AgentIo = {
    client: new NodeClient({ url: settings.electionUrl, node: settings.node, key: "k", timeoutMs: 1000 }),
    now: () => performance.now(),
    sleep: (ms, signal) =>
      new Promise((resolve) => {
        const t = setTimeout(resolve, ms);
        signal.addEventListener(
          "abort",
          () => {
            clearTimeout(t);
            resolve();
          },
          { once: true },
        );
      }),
    log: (line) => lines.push(line),
    startRay: () => {
      startedRay = true;
      throw new Error("Ray must not start");
    },
    listenGcsProxy: () => {
      throw new Error("no forwarder without GCS fault tolerance");
    },
    portOpen: async () => false,
    detectAddress: async () => "127.0.0.1",
  };
  const agent = new Agent(settings, io);
  let exited: number | "running" = "running";
  const run = agent.run().then(
    (code) => void (exited = code),
    (error) => void (exited = error instanceof AgentExit ? error.code : -1),
  );
  await Bun.sleep(700);
  const before = exited;
  agent.requestStop();
  await run;
  server.stop(true);
  return { startedRay, exited: before, lines };
}

describe("node agent against a hostile election service", () => {
  test("every hostile answer is a logged protocol error: no Ray, nothing run, no exit", async () => {
    const results = await Promise.all(answers.map(async ([name, answer]) => ({ name, ...(await runAgainst(answer)) })));
    for (const r of results) {
      expect({ name: r.name, startedRay: r.startedRay, exited: r.exited }).toEqual({ name: r.name, startedRay: false, exited: "running" });
      expect({ name: r.name, logged: r.lines.some((l) => /decision=wait/.test(l)) }).toEqual({ name: r.name, logged: true });
    }
    expect(existsSync(marker)).toBe(false);
  }, 20_000);
});
