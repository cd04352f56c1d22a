import { describe, expect, test } from "bun:test";
import type { PsRow } from "../../src/compose/ps.ts";
import { describePhase, waitPhase, type WaitExpectation, type WaitPhase } from "../../src/status/phase.ts";
import type { RosterView } from "../../src/election/roster.ts";

const row = (service: string, state = "running", health = "", exitCode = 0): PsRow => ({
  service,
  name: `lab-${service}-1`,
  state,
  health,
  exitCode,
  status: "",
  ports: "",
});
const expectation: WaitExpectation = { services: ["health", "ray-cpu", "ray-worker"], healthService: "health", election: true, nodes: ["lab-cpu", "w1", "w2"] };
const head = { node: "lab-cpu", address: "10.0.0.5:6379", term: 3, since: "2026-01-01T00:00:00Z", ready: true };
const worker = (n: number, term = 3) => ({ node: `w${n}`, address: `10.0.0.${n}`, ageMs: 100, term });
const roster = (r: Partial<RosterView>) => ({ roster: { head: null, term: 0, workers: [], ...r } });
const allUp = [row("health", "running", "healthy"), row("ray-cpu"), row("ray-worker"), row("ray-worker")];

describe("waitPhase", () => {
  const cases: [string, PsRow[], Parameters<typeof waitPhase>[1], WaitPhase][] = [
    ["nothing yet", [], undefined, { kind: "containers", running: 0, total: 3, pending: ["health", "ray-cpu", "ray-worker"] }],
    [
      "some running",
      [row("health", "running", "starting"), row("ray-cpu", "created")],
      undefined,
      { kind: "containers", running: 1, total: 3, pending: ["ray-cpu", "ray-worker"] },
    ],
    [
      "a container exited",
      [row("health", "running", "healthy"), row("ray-cpu", "exited", "", 1)],
      undefined,
      { kind: "failed", service: "ray-cpu", reason: "container lab-ray-cpu-1 exited (exit code 1)" },
    ],
    [
      "health unhealthy",
      [row("health", "running", "unhealthy"), row("ray-cpu"), row("ray-worker")],
      undefined,
      { kind: "failed", service: "health", reason: "container lab-health-1 is unhealthy" },
    ],
    ["health starting", [row("health", "running", "starting"), row("ray-cpu"), row("ray-worker")], undefined, { kind: "health", health: "starting" }],
    ["roster not asked yet", allUp, undefined, { kind: "election", detail: undefined }],
    ["roster unreachable", allUp, { error: "refused" }, { kind: "election", detail: "refused" }],
    ["no head yet", allUp, roster({}), { kind: "election" }],
    ["head, 1 of 2 workers", allUp, roster({ head, workers: [worker(1)] }), { kind: "workers", head: "lab-cpu", joined: 2, expected: 3, missing: ["w2"] }],
    [
      "a worker of an earlier term does not count",
      allUp,
      roster({ head, workers: [worker(1), worker(2, 2)] }),
      { kind: "workers", head: "lab-cpu", joined: 2, expected: 3, missing: ["w2"] },
    ],
    [
      "head not ready",
      allUp,
      roster({ head: { ...head, ready: false }, workers: [worker(1), worker(2)] }),
      { kind: "workers", head: "lab-cpu", joined: 3, expected: 3, missing: [] },
    ],
    ["ready", allUp, roster({ head, workers: [worker(1), worker(2)] }), { kind: "ready", head: "lab-cpu", joined: 3, expected: 3 }],
    [
      "ready, with another host's workers and a left-over test worker around",
      allUp,
      roster({ head, workers: [worker(1), worker(2), { ...worker(9), node: "test-ray-worker" }] }),
      { kind: "ready", head: "lab-cpu", joined: 3, expected: 3 },
    ],
    [
      "a member host: the head is elsewhere, this host's nodes are workers",
      allUp,
      roster({ head: { ...head, node: "ray-cpu.ws1" }, workers: [worker(1), worker(2), { ...worker(3), node: "lab-cpu" }] }),
      { kind: "ready", head: "ray-cpu.ws1", joined: 3, expected: 3 },
    ],
  ];
  test.each(cases)("%s", (_name, rows, r, expected) => expect(waitPhase(rows, r, expectation)).toEqual(expected));

  test("an exited container of a service not being started is ignored", () => {
    expect(waitPhase([...allUp, row("marimo", "exited", "", 1)], roster({ head, workers: [worker(1), worker(2)] }), expectation).kind).toBe("ready");
  });

  test("Ray ready but MLflow's healthcheck still starting: not ready yet (compose's --wait waits for it too)", () => {
    const withMlflow: WaitExpectation = { ...expectation, services: [...expectation.services, "mlflow", "marimo"] };
    const rows = [...allUp, row("mlflow", "running", "starting"), row("marimo")];
    const formed = roster({ head, workers: [worker(1), worker(2)] });
    expect(waitPhase(rows, formed, withMlflow)).toEqual({ kind: "healthchecks", pending: ["mlflow"] });
    expect(waitPhase([...allUp, row("mlflow", "running", "healthy"), row("marimo")], formed, withMlflow).kind).toBe("ready");
    // Without an election too.
    expect(waitPhase([row("mlflow", "running", "starting")], undefined, { services: ["mlflow"], election: false, nodes: [] })).toEqual({
      kind: "healthchecks",
      pending: ["mlflow"],
    });
  });

  test("without an election (fixed head_address) running containers are ready", () => {
    expect(waitPhase([row("ray-cpu")], undefined, { services: ["ray-cpu"], election: false, nodes: ["ray-cpu"] })).toEqual({
      kind: "ready",
      joined: 0,
      expected: 0,
    });
  });
});

test.each([
  [{ kind: "containers", running: 1, total: 3, pending: ["ray-cpu", "redis"] }, "containers running 1/3 (waiting for ray-cpu, redis)"],
  [{ kind: "health", health: "starting" }, "health service starting"],
  [{ kind: "election" }, "health healthy → waiting for head election"],
  [{ kind: "workers", head: "lab-cpu", joined: 1, expected: 2, missing: ["w2"] }, "head elected: lab-cpu → this host's Ray nodes on the roster 1/2"],
  [{ kind: "healthchecks", pending: ["mlflow", "redis"] }, "waiting for the healthchecks of mlflow, redis"],
  [{ kind: "ready", head: "lab-cpu", joined: 2, expected: 2 }, "ready: head lab-cpu, this host's Ray nodes on the roster 2/2"],
  [{ kind: "failed", service: "redis", reason: "container x exited (exit code 1)" }, "redis failed: container x exited (exit code 1)"],
] as [WaitPhase, string][])("describePhase %j", (phase, text) => expect(describePhase(phase)).toBe(text));
