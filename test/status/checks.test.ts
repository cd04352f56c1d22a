import { expect, test } from "bun:test";
import { dotEnvNames, failureSummary, hasNvidiaRuntime, renderChecks, requiredEnvVars, type CheckResult } from "../../src/status/checks.ts";

test.each([
  ["environment:\n  POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n", ["POSTGRES_PASSWORD"]],
  ["x: ${A:?set A in .env}\ny: ${B?msg}\nz: $C\n", ["A", "B", "C"]],
  ["x: ${A:-default}\ny: ${B-default}\nz: ${C:+alt}\n", []],
  ["command: echo $$HOME $${USER}\n", []],
  ["x: ${A}\ny: ${A}\n", ["A"]],
])("requiredEnvVars(%j) = %j", (text, expected) => expect(requiredEnvVars(text)).toEqual(expected));

test("dotEnvNames: names with a value; comments, blanks and empty values skipped", () => {
  const names = dotEnvNames(`# secrets\nPOSTGRES_PASSWORD=abc\nexport REDIS_PASSWORD="x y"\nEMPTY=\nQUOTED_EMPTY=''\n  SPACED = 1\nnot a line\n`);
  expect([...names].sort()).toEqual(["POSTGRES_PASSWORD", "REDIS_PASSWORD", "SPACED"]);
});

test.each([
  ['{"io.containerd.runc.v2":{"path":"runc"},"nvidia":{"path":"nvidia-container-runtime"},"runc":{"path":"runc"}}', true],
  ['{"io.containerd.runc.v2":{"path":"runc"},"runc":{"path":"runc"}}', false],
  ["map[nvidia:{nvidia-container-runtime []}]", true],
])("hasNvidiaRuntime(%s) = %p", (json, expected) => expect(hasNvidiaRuntime(json)).toBe(expected));

test("renderChecks marks each check and gives the fix only for failures", () => {
  const results: CheckResult[] = [
    { name: "engine reachable", status: "ok", detail: "server version 28.2.2" },
    { name: "Compose v2", status: "fail", detail: "no Docker Compose found", fix: "install Compose v2" },
    { name: "NVIDIA runtime", status: "skip", detail: "no GPU", fix: "never shown" },
  ];
  expect(renderChecks(results)).toBe(
    "✓ engine reachable: server version 28.2.2\n✗ Compose v2: no Docker Compose found\n    fix: install Compose v2\n- NVIDIA runtime: no GPU\n",
  );
  expect(failureSummary(results)).toBe("doctor: 1 check failed");
  expect(failureSummary([results[0]!, results[2]!])).toBeUndefined();
});
