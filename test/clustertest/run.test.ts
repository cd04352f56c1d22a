/**
 * The whole check sequence against real sockets on this machine: a real HTTP roster server
 * and real listeners stand for the cluster's published ports. The injected probe runs each
 * probe's bash command line here, with the host alias pointed at 127.0.0.1 (inside the test
 * container, host.docker.internal leads to the host the same way).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProbeOutcome } from "../../src/clustertest/checks.ts";
import { clusterTest } from "../../src/render/cluster-test.ts";
import { runClusterChecks, type ClusterTestIo } from "../../src/clustertest/run.ts";
import { verdictExitCode } from "../../src/clustertest/verdict.ts";
import { modelFixture } from "../helpers/model.ts";

type Listener = { port: number; stop(closeActive?: boolean): void };
/**
 * A live port that speaks first: tcpProbe then knows at once that something listens. Behind a
 * silent one (as Ray's gRPC ports are) it waits out its 0.5 s read window, twice per run of the
 * checks; probes.test.ts proves that case on its own.
 */
const listen = (): Listener =>
  Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.write("\n");
      },
      data() {},
    },
  });

let head: Listener;
let client: Listener;
let binDir: string;
let workerJoinsAfter = 0;
let rosterRequests = 0;
let withHead = true;
/** An entry an earlier run left behind, listed until this run's worker joins. */
let oldEntry = false;
let workerStarted = false;
const roster = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch() {
    rosterRequests++;
    const joined = workerStarted && rosterRequests > workerJoinsAfter;
    const workers = joined
      ? [{ node: clusterTest.worker, address: "192.0.2.7", joinedAt: 2000 }]
      : oldEntry
        ? [{ node: clusterTest.worker, address: "192.0.2.7", joinedAt: 1000 }]
        : [];
    return Response.json({ head: withHead ? { node: "ray-cpu", address: "ray-cpu:1", term: 1, since: "now", ready: true } : null, term: 1, workers });
  },
});

beforeAll(() => {
  head = listen();
  client = listen();
  // The stand-in's self-description is all the flavour probe looks at.
  binDir = mkdtempSync(join(tmpdir(), "cslr-run-"));
  writeFileSync(join(binDir, "ray"), "#!/bin/sh\necho 'ray (cslr stand-in)'\n");
  chmodSync(join(binDir, "ray"), 0o755);
});
afterAll(() => {
  roster.stop(true);
  head.stop(true);
  client.stop(true);
  rmSync(binDir, { recursive: true, force: true });
});

function localIo(state = "running"): ClusterTestIo {
  workerStarted = false;
  return {
    async startWorker() {
      workerStarted = true;
    },
    async probe(argv): Promise<ProbeOutcome> {
      const local = argv.map((a) => (a === clusterTest.hostAlias ? "127.0.0.1" : a));
      // The system's tools only, as in the test client container: a pyenv shim first on a
      // developer's PATH made each `python3` of the flavour probe cost 0.4 s (10 times Python's
      // own start), and under a loaded CI run the probe ran past its 5 s limit.
      const path = `${binDir}:/usr/bin:/bin`;
      const proc = Bun.spawn(local, { stdout: "pipe", stderr: "pipe", env: { ...process.env, PATH: path } });
      const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      return { code, stdout, stderr };
    },
    workerState: async () => state,
    sleep: (ms) => Bun.sleep(ms),
    now: () => Date.now(),
  };
}

const model = () => modelFixture({ services: { health: { port: roster.port! }, ray: { cpu: { head_port: head.port, client_port: client.port } } } });

describe("runClusterChecks", () => {
  test("all four pass once the worker shows up in the roster", async () => {
    withHead = true;
    rosterRequests = 0;
    workerJoinsAfter = 3;
    const seen: string[] = [];
    const results = await runClusterChecks(model(), { hostAddress: "192.0.2.7", timeoutMs: 10_000, pollMs: 10, onResult: (r) => seen.push(r.id) }, localIo());
    expect(results.map((r) => [r.id, r.status === "ok"])).toEqual([
      ["health", true],
      ["head-port", true],
      ["client", true],
      ["worker", true],
    ]);
    expect(seen).toEqual(["health", "head-port", "client", "worker"]);
    expect(verdictExitCode(results)).toBe(0);
  });

  test("an entry an earlier run left in the roster is not this run's worker", async () => {
    withHead = true;
    oldEntry = true;
    try {
      rosterRequests = 0;
      workerJoinsAfter = Number.POSITIVE_INFINITY;
      const stale = await runClusterChecks(model(), { hostAddress: "192.0.2.7", timeoutMs: 300, pollMs: 10 }, localIo());
      expect(stale.at(-1)!.status).toBe("fail");
      expect(stale.at(-1)!.detail).toBe("only an entry from an earlier run is in the roster; this run's worker did not join");
      rosterRequests = 0;
      workerJoinsAfter = 2;
      const fresh = await runClusterChecks(model(), { hostAddress: "192.0.2.7", timeoutMs: 10_000, pollMs: 10 }, localIo());
      expect(fresh.at(-1)!.status).toBe("ok");
    } finally {
      oldEntry = false;
    }
  });

  test("a closed client port and a worker that never joins fail, with fixes", async () => {
    withHead = true;
    rosterRequests = 0;
    workerJoinsAfter = Number.POSITIVE_INFINITY;
    const closed = listen();
    const closedPort = closed.port;
    closed.stop(true);
    const m = modelFixture({ services: { health: { port: roster.port! }, ray: { cpu: { head_port: head.port, client_port: closedPort } } } });
    const results = await runClusterChecks(m, { hostAddress: "192.0.2.7", timeoutMs: 300, pollMs: 10 }, localIo());
    expect(results.map((r) => [r.id, r.status === "ok"])).toEqual([
      ["health", true],
      ["head-port", true],
      ["client", false],
      ["worker", false],
    ]);
    expect(results.filter((r) => r.status === "fail").every((r) => r.fix)).toBe(true);
    expect(verdictExitCode(results)).toBe(1);
  });

  test("an exited worker container ends the wait at once and says so", async () => {
    withHead = true;
    workerJoinsAfter = Number.POSITIVE_INFINITY;
    const results = await runClusterChecks(model(), { hostAddress: "192.0.2.7", timeoutMs: 60_000, pollMs: 10 }, localIo("exited"));
    expect(results.at(-1)!.fix).toBe("the test worker container is exited: see `cslr test --logs`");
  });

  test("no head elected: head and client checks say why", async () => {
    withHead = false;
    workerJoinsAfter = 0;
    const results = await runClusterChecks(model(), { hostAddress: "192.0.2.7", timeoutMs: 200, pollMs: 10 }, localIo());
    expect(results.map((r) => [r.id, r.status === "ok"])).toEqual([
      ["health", true],
      ["head-port", false],
      ["client", false],
      ["worker", true],
    ]);
    expect(results[1]!.detail).toBe("no head is elected");
  });

  test("health service down: every check fails", async () => {
    const m = modelFixture({ services: { health: { port: head.port === 1 ? 2 : 1 } } });
    const results = await runClusterChecks(m, { hostAddress: "192.0.2.7", timeoutMs: 100, pollMs: 10 }, localIo());
    expect(results.every((r) => r.status === "fail")).toBe(true);
    expect(results[0]!.detail).toStartWith("no connection");
  });
});
