import { describe, expect, test } from "bun:test";
import type { ComposeTool } from "../../src/compose/argv.ts";
import { chooseCompose, detectCompose, engineDownMessage, isEngineDown, parseComposeVersion, type ProbeResult } from "../../src/compose/detect.ts";

const ok = (stdout: string): ProbeResult => ({ code: 0, stdout, stderr: "" });
const failed: ProbeResult = { code: 1, stdout: "", stderr: "docker: unknown command: docker compose" };

describe("parseComposeVersion", () => {
  test.each([
    ["Docker Compose version v2.26.1", "2.26.1"],
    ["Docker Compose version 2.29.7+ds1-0ubuntu1", "2.29.7+ds1-0ubuntu1"],
    ["docker-compose version 1.29.2, build unknown", "1.29.2"],
    ["podman-compose version 1.0.6\npodman version 4.3.1", "1.0.6"],
    ["no numbers here", undefined],
  ])("%s", (output, expected) => expect(parseComposeVersion(output)).toBe(expected));
});

describe("chooseCompose (probes in order: docker compose, docker-compose, podman compose)", () => {
  test.each([
    ["plugin wins", [ok("Docker Compose version v2.26.1")], "docker compose 2.26.1"],
    ["standalone v2", [failed, ok("Docker Compose version v2.20.0")], "docker-compose 2.20.0"],
    ["v1 skipped for podman", [null, ok("docker-compose version 1.29.2, build x"), ok("podman-compose version 1.0.6")], "podman compose 1.0.6"],
    ["docker absent, podman present", [null, null, ok("podman-compose version 1.0.6")], "podman compose 1.0.6"],
  ] as [string, (ProbeResult | null)[], string][])("%s", (_name, results, expected) => {
    const choice = chooseCompose(results);
    expect("tool" in choice && `${choice.tool.kind} ${choice.tool.version}`).toBe(expected);
  });

  test.each([
    ["nothing at all", [null, null, null], /^no Docker Compose found: install Compose v2 \(https:\/\/docs\.docker\.com\/compose\/install\//],
    [
      "only v1",
      [failed, ok("docker-compose version 1.29.2, build x"), null],
      /^no Docker Compose found \(docker-compose 1\.29\.2 is Compose v1, which is too old\)/,
    ],
  ] as [string, (ProbeResult | null)[], RegExp][])("%s → error", (_name, results, message) => {
    const choice = chooseCompose(results);
    expect("error" in choice && choice.error).toMatch(message);
  });
});

test("detectCompose stops probing at the first usable Compose", async () => {
  const probed: string[][] = [];
  const tool = await detectCompose(async (argv) => {
    probed.push(argv);
    return argv[0] === "docker-compose" ? ok("Docker Compose version v2.20.0") : null;
  });
  expect(tool.command).toEqual(["docker-compose"]);
  expect(probed).toEqual([
    ["docker", "compose", "version"],
    ["docker-compose", "version"],
  ]);
});

test("detectCompose throws the one-line install hint when none is found", async () => {
  await expect(detectCompose(async () => null)).rejects.toThrow(/^no Docker Compose found: install Compose v2/);
});

describe("engine down", () => {
  test.each([
    ["Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", true],
    ["error during connect: Get http://%2F%2F.%2Fpipe%2Fdocker_engine/v1.24/info", true],
    ["permission denied while trying to connect to the Docker daemon socket", false],
    ["no such service: redis", false],
  ])("isEngineDown(%s) = %p", (stderr, expected) => expect(isEngineDown(stderr)).toBe(expected));

  test("the message names the cause and the fix, skipping noise lines", () => {
    const docker: ComposeTool = { kind: "docker compose", command: ["docker", "compose"], version: "2.26.1" };
    expect(
      engineDownMessage(docker, "WARNING: something\nCannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"),
    ).toBe(
      "Docker engine is not running (docker info failed: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?). Start it: sudo systemctl start docker",
    );
    const podman: ComposeTool = { kind: "podman compose", command: ["podman", "compose"], version: "1.0.6" };
    expect(engineDownMessage(podman, "Error: unable to connect to Podman socket")).toStartWith(
      "Podman is not reachable (podman info failed: Error: unable to connect",
    );
  });
});
