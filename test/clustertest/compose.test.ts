import { expect, test } from "bun:test";
import { serviceStateOf, testComposeArgv } from "../../src/clustertest/compose.ts";

test("testComposeArgv pins project and file, and the env file only when it exists", () => {
  const target = { composeFile: "/p/_build/cluster-test.compose.yaml", projectName: "lab-test", projectDir: "/p" };
  expect(testComposeArgv({ ...target, envFile: "/nonexistent/.env" }, ["up", "-d"])).toEqual([
    "docker", "compose", "-p", "lab-test", "-f", "/p/_build/cluster-test.compose.yaml", "up", "-d",
  ]);
  expect(testComposeArgv({ ...target, envFile: import.meta.path }, ["ps"])).toEqual([
    "docker", "compose", "-p", "lab-test", "-f", "/p/_build/cluster-test.compose.yaml", "--env-file", import.meta.path, "ps",
  ]);
});

test.each([
  ["one object per line (compose ≥ 2.21)", '{"Service":"test-ray-client","State":"running"}\n{"Service":"test-ray-worker","State":"exited"}\n', "exited"],
  ["one array (older compose)", '[{"Service":"test-ray-worker","State":"Running"}]', "running"],
  ["no containers", "", undefined],
  ["other services only", '{"Service":"x","State":"running"}', undefined],
])("serviceStateOf: %s", (_name, output, state) => {
  expect(serviceStateOf(output, "test-ray-worker")).toBe(state as never);
});
