import { expect, test } from "bun:test";
import type { PsRow } from "../../src/compose/ps.ts";
import { hostOf } from "../../src/config/net.ts";
import { stackFactsOfModel } from "../../src/status/stack.ts";
import { buildStatus, endpoints, renderStatus } from "../../src/status/view.ts";
import { labModelFixture, modelFixture } from "../helpers/model.ts";

const head = { node: "lab-cpu", address: "10.0.0.5:6379", term: 4, since: "2026-01-01T00:00:00Z", ready: true };
const rows: PsRow[] = [
  { service: "health", name: "cslr-health-1", state: "running", health: "healthy", exitCode: 0, status: "Up 1 minute (healthy)", ports: "" },
  { service: "ray-cpu", name: "cslr-ray-cpu-1", state: "running", health: "", exitCode: 0, status: "Up 1 minute", ports: "" },
];

test.each([
  ["10.0.0.5:6379", "10.0.0.5"],
  ["10.0.0.5", "10.0.0.5"],
  ["[fd00::1]:6379", "fd00::1"],
  ["gpu-box.lan:6380", "gpu-box.lan"],
])("hostOf(%s) = %s", (address, host) => expect(hostOf(address)).toBe(host));

test("endpoints: Ray from the local head's ports on HOST; services by their config ports", () => {
  expect(endpoints(stackFactsOfModel(labModelFixture({ config: { services: { marimo: { enabled: false } } } })), "192.168.1.20", head)).toEqual({
    rayDashboard: "http://192.168.1.20:8265",
    rayClient: "ray://192.168.1.20:10001",
    mlflow: "http://192.168.1.20:5000",
    redis: "redis://192.168.1.20:6381",
    health: "https://192.168.1.20:8888",
  });
});

test("endpoints: a head on another machine is reached at its own address", () => {
  const remote = { ...head, node: "gpu-box", address: "10.0.0.9:6380" };
  expect(endpoints(stackFactsOfModel(labModelFixture()), "192.168.1.20", remote)).toMatchObject({
    rayDashboard: "http://10.0.0.9:8265",
    rayClient: "ray://10.0.0.9:10001",
  });
  expect(endpoints(stackFactsOfModel(labModelFixture()), "192.168.1.20", null).rayClient).toBeUndefined();
});

test("status report and screen with a head and a worker", () => {
  const report = buildStatus({
    stack: stackFactsOfModel(labModelFixture()),
    projectName: "cslr",
    address: "192.168.1.20",
    rows,
    roster: { roster: { head, term: 4, workers: [{ node: "w1", address: "10.0.0.6", ageMs: 900 }] } },
  });
  expect(report).toMatchObject({
    schemaVersion: 1,
    project: "cslr",
    host: "ws1",
    address: "192.168.1.20",
    term: 4,
    head,
    rosterError: undefined,
    gcsAddress: "192.168.1.20:6379",
  });
  expect(report.services.map((s) => [s.service, s.state, s.health])).toEqual([
    ["health", "running", "healthy"],
    ["ray-cpu", "running", ""],
  ]);
  const screen = renderStatus(report);
  expect(screen).toContain("Ray head: lab-cpu (10.0.0.5:6379), term 4, since 2026-01-01T00:00:00Z, ready");
  expect(screen).toMatch(/ {4}w1 +worker +10\.0\.0\.6 +last report 0\.9 s ago/);
  expect(screen).toContain("Ray client       ray://192.168.1.20:10001");
  expect(screen).toContain("Ray GCS          192.168.1.20:6379   (ray start --address=192.168.1.20:6379)");
  expect(screen).toMatch(/ health\s+running\s+healthy\s+Up 1 minute \(healthy\)/);
  expect(report.join).toBeUndefined(); // one workstation: nothing to join
});

test("one workstation in bridge networking: the host is shown at its address, not a container's name", () => {
  const local = { node: "ray-cpu", address: "ray-cpu:6379", term: 1, since: "t", ready: true };
  const report = buildStatus({
    stack: stackFactsOfModel(labModelFixture()),
    projectName: "cslr",
    address: "192.168.1.20",
    rows,
    roster: { roster: { head: local, term: 1, workers: [{ node: "ray-worker-1", address: "ray-worker-1", ageMs: 100 }] } },
  });
  expect(report.hosts.map((h) => [h.name, h.address])).toEqual([["ws1", "192.168.1.20"]]);
  expect(renderStatus(report)).toContain("\n  ws1 (192.168.1.20)\n");
});

test("the coordinator's status names workstations that were members and are gone", () => {
  const model = modelFixture({ network: { mode: "host" }, host: { name: "ws1" } }, { head_whitelist: ["ray-cpu"] });
  const roster = {
    head: { node: "ray-cpu.ws1", host: "ws1", address: "10.0.0.11:6379", term: 2, since: "t", ready: true },
    term: 2,
    workers: [],
    gone: [{ host: "ws2", address: "10.0.0.12", lastSeen: "2026-12-04T13:40:02.000Z" }],
  };
  const report = buildStatus({ stack: stackFactsOfModel(model), projectName: "lab", address: "10.0.0.11", rows, roster: { roster }, clusterToken: "tok" });
  expect(report.goneHosts).toEqual(roster.gone);
  const screen = renderStatus(report);
  expect(screen).toContain(
    "Gone (were in the cluster; no report from their nodes for three lease TTLs):\n  ws2 (10.0.0.12), last report 2026-12-04T13:40:02.000Z\n",
  );
});

test("several workstations: nodes grouped by host, the GCS address and the join line on the coordinator", () => {
  const model = modelFixture({ network: { mode: "host" }, host: { name: "ws1" }, services: { ray: { workers: 1 } } }, { head_whitelist: ["ray-cpu"] });
  const roster = {
    head: { node: "ray-cpu.ws2", host: "ws2", address: "10.0.0.12:6379", term: 2, since: "t", ready: true },
    term: 2,
    workers: [
      { node: "ray-cpu.ws1", host: "ws1", address: "10.0.0.11", ageMs: 1000, term: 2 },
      { node: "ray-worker-1.ws1", host: "ws1", address: "10.0.0.11", ageMs: 2000, term: 2 },
      { node: "ray-gpu.ws3", address: "10.0.0.13", ageMs: 500, term: 2 },
    ],
  };
  const pin = "ab".repeat(32);
  const report = buildStatus({ stack: stackFactsOfModel(model, pin), projectName: "lab", address: "10.0.0.11", rows, roster: { roster }, clusterToken: "tok" });
  expect(report.hosts.map((h) => [h.name, h.address, h.nodes.map((n) => `${n.node}:${n.role}`)])).toEqual([
    ["ws1", "10.0.0.11", ["ray-cpu.ws1:worker", "ray-worker-1.ws1:worker"]],
    ["ws2", "10.0.0.12", ["ray-cpu.ws2:head"]],
    ["ws3", "10.0.0.13", ["ray-gpu.ws3:worker"]],
  ]);
  expect(report.gcsAddress).toBe("10.0.0.12:6379");
  expect(report.endpoints.rayDashboard).toBe("http://10.0.0.12:8265");
  // The token is read from standard input, never put on the command line (issue 17, finding 5).
  expect(report.join).toBe("cslr join https://10.0.0.11:8888 --token -");
  expect(report.joinToken).toBe(`cslr1.${pin}.tok`);
  const screen = renderStatus(report);
  expect(screen).toContain("  ws2 (10.0.0.12)");
  expect(screen).toContain("  cslr join https://10.0.0.11:8888 --token -\n");
  expect(screen).toContain(`  cslr1.${pin}.tok\n`);
  expect(screen).not.toContain("--token tok");
});

test("status without a reachable roster says why, and nothing running says how to start", () => {
  const report = buildStatus({
    stack: stackFactsOfModel(labModelFixture()),
    projectName: "cslr",
    address: "h",
    rows: [],
    roster: { error: "http://127.0.0.1:8888/v1/cluster unreachable: refused" },
  });
  expect(report.head).toBeNull();
  const screen = renderStatus(report);
  expect(screen).toContain("Services here: none running (start them with `cslr up -d`)");
  expect(screen).toContain("Ray head: unknown (http://127.0.0.1:8888/v1/cluster unreachable: refused)");
  expect(screen).not.toContain("Ray dashboard");
});

test("the election service on another cslr version: said in status, with what to run; the same version: nothing", () => {
  const base = {
    stack: stackFactsOfModel(labModelFixture()),
    projectName: "lab",
    address: "10.0.0.11",
    rows: [],
    roster: { roster: { head: null, term: 0, workers: [] } },
  };
  const older = buildStatus({ ...base, serviceVersion: "0.0.9", cliVersion: "0.1.0" });
  expect(older.versionMismatch).toBe(true);
  expect(renderStatus(older)).toContain("Note: the election service runs cslr 0.0.9, this CLI is 0.1.0: `cslr up` updates it");
  const same = buildStatus({ ...base, serviceVersion: "0.1.0", cliVersion: "0.1.0" });
  expect(same.versionMismatch).toBeUndefined();
  expect(renderStatus(same)).not.toContain("Note:");
});
