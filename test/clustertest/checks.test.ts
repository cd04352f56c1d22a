import { describe, expect, test } from "bun:test";
import { checkHealth, checkNoHead, checkWorkerInRay, checkWorkerInRoster, headTarget, readFlavour, readRayClientReport } from "../../src/clustertest/checks.ts";
import { formatVerdict, verdictExitCode } from "../../src/clustertest/verdict.ts";
import { modelFixture } from "../helpers/model.ts";

const http = (status: number, body: string) => `HTTP/1.1 ${status} X\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
const roster = {
  head: { node: "ray-cpu", address: "ray-cpu:6379", term: 3, since: "t", ready: true },
  term: 3,
  workers: [{ node: "w1", address: "172.28.0.5", lastSeen: "t" }],
};
const endpoint = { host: "host.docker.internal", port: 8888 };
const worker = { name: "test-ray-worker", hostAddress: "10.0.0.5", nodeManagerPort: 6700, ports: [6700, 6701, 6710, 6719] };

describe("checkHealth", () => {
  test.each([
    ["200 with a roster", { code: 0, stdout: http(200, JSON.stringify(roster)), stderr: "" }, true, undefined],
    ["refused", { code: 1, stdout: "", stderr: "bash: connect: Connection refused\n" }, false, "no connection (bash: connect: Connection refused)"],
    [
      "refused, as bash says it",
      { code: 1, stdout: "", stderr: "cslr-probe: line 1: /dev/tcp/h/1: Connection refused\n" },
      false,
      "no connection (Connection refused)",
    ],
    ["HTTP 500", { code: 0, stdout: http(500, "x"), stderr: "" }, false, "GET /v1/cluster answered HTTP 500"],
    ["someone else's server", { code: 0, stdout: http(200, "<html>"), stderr: "" }, false, "GET /v1/cluster did not return a roster"],
    ["not HTTP", { code: 0, stdout: "+PONG\r\n", stderr: "" }, false, "the answer is not HTTP"],
  ])("%s", (_name, outcome, ok, detail) => {
    const { result } = checkHealth(outcome, endpoint);
    expect(result.status).toBe(ok ? "ok" : "fail");
    expect(result.detail).toBe(detail as never);
    if (!ok) expect(result.fix).toBeTruthy();
  });
});

describe("headTarget", () => {
  const model = modelFixture({
    services: { ray: { cpu: { head_port: 16379, client_port: 20001 }, gpu: { enabled: true, head_port: 16380, client_port: 20002 } } },
  });
  test.each([
    [
      "local cpu head via the host",
      { node: "ray-cpu", address: "ray-cpu:16379" },
      { gcs: { host: "host.docker.internal", port: 16379 }, client: { host: "host.docker.internal", port: 20001 }, local: true },
    ],
    [
      "local gpu head via the host",
      { node: "ray-gpu", address: "ray-gpu:16380" },
      { gcs: { host: "host.docker.internal", port: 16380 }, client: { host: "host.docker.internal", port: 20002 }, local: true },
    ],
    [
      "remote head at its address",
      { node: "gpu-box", address: "10.9.8.7:6379" },
      { gcs: { host: "10.9.8.7", port: 6379 }, client: { host: "10.9.8.7", port: 20001 }, local: false },
    ],
    ["remote head without a port", { node: "gpu-box", address: "10.9.8.7" }, undefined],
  ])("%s", (_name, head, expected) => {
    const target = headTarget(model, head, "host.docker.internal");
    expect(target ? { gcs: target.gcs, client: target.client, local: target.local } : undefined).toEqual(expected as never);
  });
});

describe("head, client and worker verdicts", () => {
  test("no roster, no head", () => {
    expect(checkNoHead(undefined, "h").detail).toStartWith("skipped");
    expect(checkNoHead({ head: null, workers: [] }, "h").detail).toBe("no head is elected");
  });

  test("flavour", () => {
    expect(readFlavour({ code: 0, stdout: "standin\n", stderr: "" })).toBe("standin");
    expect(readFlavour({ code: 0, stdout: "real\n", stderr: "" })).toBe("real");
    expect(readFlavour({ code: 127, stdout: "", stderr: "exec failed" })).toBe("none");
  });

  test("worker in the roster", () => {
    expect(checkWorkerInRoster({ head: null, workers: [{ node: "test-ray-worker", address: "10.0.0.5" }] }, worker).status).toBe("ok");
    const missing = checkWorkerInRoster({ head: null, workers: [{ node: "w1", address: "x" }] }, worker);
    expect(missing.status).toBe("fail");
    expect(missing.detail).toBe("not in the roster (workers: w1)");
    expect(missing.fix).toContain("10.0.0.5 on ports 6700-6719");
    expect(checkWorkerInRoster(undefined, worker, "exited").fix).toBe("the test worker container is exited: see `cslr test --logs`");
  });

  test("worker among real Ray's nodes, matched by address and node manager port", () => {
    const report = readRayClientReport('noise\n{"resources":{"CPU":3},"nodes":[{"address":"10.0.0.5","port":6700},{"address":"ray-cpu","port":41000}]}\n')!;
    expect(checkWorkerInRay(report, worker).status).toBe("ok");
    expect(checkWorkerInRay({ ...report, nodes: [{ address: "10.0.0.5", port: 6800 }] }, worker).status).toBe("fail");
    expect(checkWorkerInRay(undefined, worker).detail).toBe("no node list: the client check failed");
  });
});

describe("verdict", () => {
  const pass = { id: "health" as const, status: "ok" as const, name: "health answers" };
  const fail = { id: "worker" as const, status: "fail" as const, name: "worker joined", detail: "not in the roster", fix: "open ports" };
  test("✓/✗ per check with the fix, and a summary", () => {
    expect(formatVerdict([pass, fail])).toBe(
      ["✓ health answers", "✗ worker joined: not in the roster", "    fix: open ports", "cluster test failed: 1/2 checks passed"].join("\n"),
    );
    expect(formatVerdict([pass])).toBe("✓ health answers\ncluster test passed: 1/1 checks");
  });
  test.each([
    [[pass], 0],
    [[pass, fail], 1],
    [[], 1],
  ])("exit code %#", (results, code) => expect(verdictExitCode(results)).toBe(code));
});
