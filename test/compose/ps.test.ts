import { expect, test } from "bun:test";
import { parsePs } from "../../src/compose/ps.ts";

const redis = { Service: "redis", Name: "lab-redis-1", State: "running", Health: "", ExitCode: 0, Status: "Up 5 seconds", Ports: "0.0.0.0:6381->6379/tcp" };
const health = { Service: "health", Name: "lab-health-1", State: "running", Health: "healthy", ExitCode: 0, Status: "Up 5 seconds (healthy)" };
const expected = [
  { service: "redis", name: "lab-redis-1", state: "running", health: "", exitCode: 0, status: "Up 5 seconds", ports: "0.0.0.0:6381->6379/tcp" },
  { service: "health", name: "lab-health-1", state: "running", health: "healthy", exitCode: 0, status: "Up 5 seconds (healthy)", ports: "" },
];

test.each([
  ["one JSON object per line (compose ≥ 2.21)", `${JSON.stringify(redis)}\n${JSON.stringify(health)}\n`],
  ["one JSON array (compose ≤ 2.20)", JSON.stringify([redis, health])],
])("parsePs reads %s", (_name, output) => expect(parsePs(output)).toEqual(expected));

test.each([[""], ["\n"], ["[]"]])("parsePs(%j) is empty", (output) => expect(parsePs(output)).toEqual([]));

test("state and health are lower-cased (podman says Running)", () => {
  expect(parsePs(JSON.stringify({ Service: "x", State: "Exited", ExitCode: 137 }))[0]).toMatchObject({ state: "exited", exitCode: 137 });
});
