import { expect, test } from "bun:test";
import { dotEnvNames, hasNvidiaRuntime, requiredEnvVars } from "../../src/doctor/checks.ts";

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
