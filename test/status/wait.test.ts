import { describe, expect, test } from "bun:test";
import type { PsRow } from "../../src/compose/ps.ts";
import { rayNodesMissing, type WaitPhase } from "../../src/status/phase.ts";
import type { RosterView } from "../../src/election/roster.ts";
import { culpritService, progressPrinter, waitExpectation, waitForCluster } from "../../src/status/wait.ts";
import { labModelFixture } from "../helpers/model.ts";

test("waitExpectation counts the Ray nodes started and leaves out the head", () => {
  const model = labModelFixture({ workers: 3 });
  expect(waitExpectation(["health", "ray-cpu", "ray-worker-1", "ray-worker-2", "ray-worker-3", "redis"], model)).toEqual({
    services: ["health", "ray-cpu", "ray-worker-1", "ray-worker-2", "ray-worker-3", "redis"],
    healthService: "health",
    election: true,
    nodes: ["lab-cpu", "ray-worker-1", "ray-worker-2", "ray-worker-3"],
  });
  expect(waitExpectation(["redis"], model)).toMatchObject({ election: false, nodes: [], healthService: undefined });
  expect(waitExpectation(["ray-cpu"], labModelFixture({ headAddress: "10.0.0.9:6379" }))).toMatchObject({ election: false });
  expect(waitExpectation(["x"], undefined)).toEqual({ services: ["x"], election: false, nodes: [] });
});

test.each([
  [{ kind: "failed", service: "redis", reason: "" }, "redis"],
  [{ kind: "containers", running: 0, total: 2, pending: ["ray-cpu", "redis"] }, "ray-cpu"],
  [{ kind: "health", health: "starting" }, "health"],
  [{ kind: "election" }, "health"],
  [{ kind: "workers", head: "lab-cpu", joined: 1, expected: 3, missing: ["ray-worker-1", "ray-worker-2"] }, "ray-worker-1"],
  [{ kind: "ready", joined: 0, expected: 0 }, undefined],
] as [WaitPhase, string | undefined][])("culpritService(%j) = %p", (phase, expected) => {
  const model = labModelFixture({ workers: 2 });
  expect(culpritService(phase, waitExpectation(["health", "ray-cpu", "ray-worker-1", "ray-worker-2"], model), model)).toBe(expected);
});

/** A scripted cluster: each poll returns the next ps rows / roster; the clock advances per sleep. */
function script(steps: { rows: PsRow[]; roster?: RosterView }[]) {
  let step = 0;
  let now = 0;
  const shown: string[] = [];
  return {
    shown,
    io: {
      ps: async () => steps[Math.min(step, steps.length - 1)]!.rows,
      roster: async () => {
        const current = steps[Math.min(step, steps.length - 1)]!;
        return current.roster ? { roster: current.roster } : { error: "connection refused" };
      },
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
        step++;
      },
      progress: (_p: WaitPhase, text: string) => shown.push(text),
    },
  };
}

const up = (service: string, health = ""): PsRow => ({ service, name: `lab-${service}-1`, state: "running", health, exitCode: 0, status: "", ports: "" });
const head = { node: "lab-cpu", address: "10.0.0.5:6379", term: 1, since: "t", ready: true };

test("waitForCluster walks the phases until ready", async () => {
  const s = script([
    { rows: [] },
    { rows: [up("health", "starting"), up("ray-cpu")] },
    { rows: [up("health", "healthy"), up("ray-cpu")] },
    { rows: [up("health", "healthy"), up("ray-cpu")], roster: { head, term: 1, workers: [] } },
  ]);
  const expect1 = { services: ["health", "ray-cpu"], healthService: "health", election: true, nodes: ["lab-cpu"] };
  const result = await waitForCluster(expect1, 60, s.io);
  expect(result).toEqual({ phase: { kind: "ready", head: "lab-cpu", joined: 1, expected: 1 }, timedOut: false });
  expect(s.shown).toEqual([
    "containers running 0/2 (waiting for health, ray-cpu)",
    "health service starting",
    "health healthy → waiting for head election",
    "ready: head lab-cpu, this host's Ray nodes on the roster 1/1",
  ]);
});

test("ready means usable: with the head on the roster, waitForCluster waits until its Jobs API answers, and says why meanwhile", async () => {
  const s = script([{ rows: [up("health", "healthy"), up("ray-cpu")], roster: { head, term: 1, workers: [] } }]);
  const answers = ["connection reset (ECONNRESET)", "HTTP 503", undefined, undefined];
  const asked: string[] = [];
  const io = { ...s.io, jobsApi: async (node: string) => (asked.push(node), answers.shift()) };
  const expect1 = { services: ["health", "ray-cpu"], healthService: "health", election: true, nodes: ["lab-cpu"] };
  const result = await waitForCluster(expect1, 60, io);
  expect(result).toEqual({ phase: { kind: "ready", head: "lab-cpu", joined: 1, expected: 1 }, timedOut: false });
  expect(asked).toEqual(["lab-cpu", "lab-cpu", "lab-cpu", "lab-cpu"]);
  expect(s.shown).toEqual([
    "head lab-cpu elected → waiting for its Jobs API to answer (connection reset (ECONNRESET))",
    "head lab-cpu elected → waiting for its Jobs API to answer (HTTP 503)",
    "ready: head lab-cpu, this host's Ray nodes on the roster 1/1",
  ]);
});

test("a Jobs API that never answers: the deadline names it", async () => {
  const s = script([{ rows: [up("health", "healthy"), up("ray-cpu")], roster: { head, term: 1, workers: [] } }]);
  const io = { ...s.io, jobsApi: async () => "connection refused" };
  const result = await waitForCluster({ services: ["health", "ray-cpu"], healthService: "health", election: true, nodes: ["lab-cpu"] }, 2, io, 500);
  expect(result).toEqual({ phase: { kind: "jobs-api", head: "lab-cpu", reason: "connection refused" }, timedOut: true });
  expect(culpritService(result.phase, waitExpectation(["health", "ray-cpu"], labModelFixture()), labModelFixture())).toBe("ray-cpu");
});

describe("ready means ALIVE in Ray's own node list", () => {
  const alive = (ip: string, hostname = "", state = true) => ({ ip, hostname, alive: state });

  test("host networking: a workstation's nodes share its IP, each ALIVE node there counts once", () => {
    const roster: RosterView = {
      head: { node: "ray-cpu.ws1", address: "10.0.0.5:6379", ready: true },
      workers: [
        { node: "ray-gpu.ws1", address: "10.0.0.5" },
        { node: "ray-cpu.ws2", address: "10.0.0.6" },
      ],
    };
    const nodes = ["ray-cpu.ws1", "ray-gpu.ws1", "ray-cpu.ws2"];
    expect(rayNodesMissing(nodes, roster, [alive("10.0.0.5"), alive("10.0.0.5"), alive("10.0.0.6")])).toEqual([]);
    expect(rayNodesMissing(nodes, roster, [alive("10.0.0.5"), alive("10.0.0.6")])).toEqual(["ray-gpu.ws1"]);
    // A DEAD entry (the node's earlier raylet) is not the node.
    expect(rayNodesMissing(nodes, roster, [alive("10.0.0.5"), alive("10.0.0.5"), alive("10.0.0.6", "", false)])).toEqual(["ray-cpu.ws2"]);
    expect(rayNodesMissing(nodes, roster, [])).toEqual(nodes);
  });

  test("bridge networking: the roster address is the service name, Ray's hostname the same", () => {
    const roster: RosterView = {
      head: { node: "ray-cpu", address: "ray-cpu:6379", ready: true },
      workers: [{ node: "ray-worker-1", address: "ray-worker-1" }],
    };
    expect(rayNodesMissing(["ray-cpu", "ray-worker-1"], roster, [alive("172.20.0.3", "ray-cpu"), alive("172.20.0.4", "ray-worker-1")])).toEqual([]);
    expect(rayNodesMissing(["ray-cpu", "ray-worker-1"], roster, [alive("172.20.0.3", "ray-cpu")])).toEqual(["ray-worker-1"]);
    // A node the roster does not have cannot be found.
    expect(rayNodesMissing(["ray-worker-2"], roster, [alive("172.20.0.5", "ray-worker-2")])).toEqual(["ray-worker-2"]);
  });

  const ready = { services: ["health", "ray-cpu"], healthService: "health", election: true, nodes: ["lab-cpu"] };

  test("with the Jobs API answering, waitForCluster waits until the head is ALIVE in Ray's list (its GCS port opened long before), and says so", async () => {
    const s = script([{ rows: [up("health", "healthy"), up("ray-cpu")], roster: { head, term: 1, workers: [] } }]);
    const lists = [[], [alive("10.0.0.5", "", false)], [alive("10.0.0.5")], [alive("10.0.0.5")]];
    const io = { ...s.io, jobsApi: async () => undefined, rayNodes: async () => lists.shift() };
    const result = await waitForCluster(ready, 60, io);
    expect(result).toEqual({ phase: { kind: "ready", head: "lab-cpu", joined: 1, expected: 1 }, timedOut: false });
    expect(s.shown).toEqual([
      "head lab-cpu elected, its Jobs API answers → Ray nodes ALIVE in Ray's own view 0/1 (waiting for lab-cpu)",
      "head lab-cpu elected, its Jobs API answers → Ray nodes ALIVE in Ray's own view 0/1 (waiting for lab-cpu)",
      "ready: head lab-cpu, this host's Ray nodes on the roster 1/1",
    ]);
  });

  test("a member's nodes and the head elsewhere: both must be ALIVE; the deadline names the missing one and its service", async () => {
    const roster: RosterView = {
      head: { node: "ray-cpu.ws1", address: "10.0.0.5:6379", term: 1, ready: true },
      term: 1,
      workers: [{ node: "lab-cpu", address: "10.0.0.6", term: 1 }],
    };
    const s = script([{ rows: [up("ray-cpu")], roster }]);
    const io = { ...s.io, jobsApi: async () => undefined, rayNodes: async () => [alive("10.0.0.5")] };
    const result = await waitForCluster({ services: ["ray-cpu"], election: true, nodes: ["lab-cpu"] }, 2, io, 500);
    expect(result).toEqual({ phase: { kind: "ray-nodes", head: "ray-cpu.ws1", alive: 1, expected: 2, missing: ["lab-cpu"] }, timedOut: true });
    expect(culpritService(result.phase, waitExpectation(["ray-cpu"], labModelFixture()), labModelFixture())).toBe("ray-cpu");
  });

  test("a list that cannot be read is a reason to wait, with the reason shown; no list at all (not Ray's dashboard) leaves the roster to decide", async () => {
    const s = script([{ rows: [up("health", "healthy"), up("ray-cpu")], roster: { head, term: 1, workers: [] } }]);
    const unreadable = await waitForCluster(ready, 1, { ...s.io, jobsApi: async () => undefined, rayNodes: async () => "HTTP 500: internal error" }, 500);
    expect(unreadable.phase).toEqual({ kind: "ray-nodes", head: "lab-cpu", alive: 0, expected: 1, missing: ["lab-cpu"], reason: "HTTP 500: internal error" });
    const noList = await waitForCluster(ready, 60, { ...s.io, jobsApi: async () => undefined, rayNodes: async () => undefined });
    expect(noList.phase.kind).toBe("ready");
  });
});

test("waitForCluster does not call a container that dies right after starting ready", async () => {
  const exited: PsRow = { ...up("redis"), state: "exited", exitCode: 3 };
  const s = script([{ rows: [up("redis")] }, { rows: [exited] }]);
  const result = await waitForCluster({ services: ["redis"], election: false, nodes: [] }, 60, s.io);
  expect(result.phase).toEqual({ kind: "failed", service: "redis", reason: "container lab-redis-1 exited (exit code 3)" });
});

test("waitForCluster gives up at the deadline with the phase it was stuck in", async () => {
  const s = script([{ rows: [up("health", "healthy"), up("ray-cpu")] }]);
  const result = await waitForCluster({ services: ["health", "ray-cpu"], healthService: "health", election: true, nodes: ["lab-cpu", "w1"] }, 2, s.io, 500);
  expect(result.timedOut).toBe(true);
  expect(result.phase.kind).toBe("election");
  expect(s.shown.length).toBe(5); // t = 0, 0.5, 1, 1.5, 2 s
});

test("progressPrinter: a line per change off a TTY, one rewritten line on a TTY", () => {
  const plain: string[] = [];
  const p = progressPrinter({ isTTY: false, write: (t: string) => plain.push(t) });
  for (const text of ["a", "a", "b"]) p.show(text);
  p.done();
  expect(plain).toEqual(["a\n", "b\n"]);

  const tty: string[] = [];
  const t = progressPrinter({ isTTY: true, write: (x: string) => tty.push(x) });
  t.show("a");
  t.show("b");
  t.done();
  expect(tty.every((x) => x.startsWith("\r\x1b[2K"))).toBe(true);
  expect(tty.at(-1)).toBe("\r\x1b[2Kb\n");
});

test("progressPrinter under --quiet writes nothing, on a TTY or not", () => {
  const written: string[] = [];
  for (const isTTY of [true, false]) {
    const p = progressPrinter({ isTTY, write: (t: string) => written.push(t) }, { quiet: true });
    p.show("waiting for health");
    p.done();
  }
  expect(written).toEqual([]);
});
