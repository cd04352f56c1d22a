import { expect, test } from "bun:test";
import { hostIpOf, hostPortOf, portConfigKeys, portConflictMessage, publishedPorts, withConfigKeys } from "../../src/compose/published.ts";
import { configSchema } from "../../src/config/schema.ts";

test.each([
  ["8888:8080", 8888],
  ["127.0.0.1:8888:8080", 8888],
  ["6379:6379/tcp", 6379],
  ["8080", undefined],
  [8080, undefined],
  [{ target: 8080, published: 8888 }, 8888],
  [{ target: 8080, published: "8888" }, 8888],
  [{ target: 8080 }, undefined],
  ["${PORT}:80", undefined],
] as [unknown, number | undefined][])("hostPortOf(%j) = %p", (entry, expected) => expect(hostPortOf(entry)).toBe(expected));

test.each([
  ["127.0.0.1:8888:8080", "127.0.0.1"],
  ["[::1]:8888:8080", "::1"],
  ["8888:8080", undefined],
  ["8080", undefined],
  [{ target: 8080, published: 8888, host_ip: "10.0.0.5" }, "10.0.0.5"],
  [{ target: 8080, published: 8888 }, undefined],
] as [unknown, string | undefined][])("hostIpOf(%j) = %p", (entry, expected) => expect(hostIpOf(entry)).toBe(expected));

test("publishedPorts carries the address a port binds", () => {
  expect(publishedPorts({ services: { mlflow: { ports: [{ target: 5000, published: 5000, host_ip: "127.0.0.1" }] } } })).toEqual([
    { service: "mlflow", port: 5000, hostIp: "127.0.0.1" },
  ]);
});

const doc = {
  services: {
    health: { ports: ["8888:8080"] },
    "ray-cpu": { ports: ["6379:6379", "8265:8265", "10001:10001"] },
    postgres: {},
  },
};

test("publishedPorts lists every host port, optionally for some services only", () => {
  expect(publishedPorts(doc).map((p) => `${p.service}:${p.port}`)).toEqual(["health:8888", "ray-cpu:6379", "ray-cpu:8265", "ray-cpu:10001"]);
  expect(publishedPorts(doc, ["health"])).toEqual([{ service: "health", port: 8888 }]);
  expect(publishedPorts(null)).toEqual([]);
});

test("portConfigKeys names the key of each enabled service's port", () => {
  const config = configSchema.parse({ services: { marimo: { enabled: false }, ray: { gpu: { enabled: true } } } });
  const keys = portConfigKeys(config, true);
  expect(keys.get(8888)).toBe("services.health.port");
  expect(keys.get(8265)).toBe("services.ray.cpu.dashboard_port");
  expect(keys.get(10002)).toBe("services.ray.gpu.client_port");
  expect(keys.get(6381)).toBe("services.redis.port");
  expect(keys.has(8080)).toBe(false); // marimo disabled
});

test("a conflict names the port, the service and the key to change", () => {
  const config = configSchema.parse({});
  const busy = withConfigKeys(
    [
      { service: "ray-cpu", port: 8265 },
      { service: "extra", port: 1234 },
    ],
    portConfigKeys(config, false),
  );
  expect(portConflictMessage(busy).split("\n")).toEqual([
    "host port 8265 (service ray-cpu) is already in use: stop what holds it or change services.ray.cpu.dashboard_port in config.yaml",
    "host port 1234 (service extra) is already in use: stop what holds it or change the port in config.yaml",
  ]);
});
