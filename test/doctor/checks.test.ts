import { describe, expect, test } from "bun:test";
import type { ConfigInput } from "../../src/config/schema.ts";
import { dotEnvNames, hasNvidiaRuntime, rayExposure, requiredEnvVars } from "../../src/doctor/checks.ts";
import { modelFixture } from "../helpers/model.ts";

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

describe("rayExposure: Ray's Jobs API reachable from other machines without a token", () => {
  test.each([
    ["token auth (the default), every address", {}, false],
    ["no auth, every address", { services: { ray: { auth: "none" } } }, true],
    ["no auth, a LAN address", { network: { bind_address: "10.0.0.5" }, services: { ray: { auth: "none" } } }, true],
    ["no auth, loopback", { network: { bind_address: "127.0.0.1" }, services: { ray: { auth: "none" } } }, false],
    ["no auth, IPv6 loopback", { network: { bind_address: "::1" }, services: { ray: { auth: "none" } } }, false],
    [
      "no auth, host network (Ray listens everywhere, bind_address does not apply)",
      { network: { mode: "host", bind_address: "127.0.0.1" }, services: { health: { enabled: false }, ray: { auth: "none" } } },
      true,
    ],
    ["no auth, no Ray node that can be head here", { services: { ray: { auth: "none", cpu: { enabled: false }, workers: 1 } } }, false],
  ] as [string, ConfigInput, boolean][])("%s → warn %p", (_name, config, warned) => {
    expect(rayExposure(modelFixture(config)) !== undefined).toBe(warned);
  });

  test("the warning names the ports and the fix", () => {
    expect(rayExposure(modelFixture({ services: { ray: { auth: "none" } } }))).toEqual({
      detail:
        "services.ray.auth is none and Ray's dashboard and client ports (ray-cpu 8265, 10001) are published on every address of this host: anyone who reaches them can run code through the Jobs API",
      fix: "set services.ray.auth: token (the default; Ray clients then need RAY_AUTH_TOKEN from .env), or network.bind_address: 127.0.0.1 to keep the stack to this machine",
    });
  });
});
