import { expect, test } from "bun:test";
import { busyPorts, isPortFree } from "../../src/host/ports.ts";

test("a port with a listener is busy; once closed it is free again", async () => {
  const listener = Bun.listen({ hostname: "0.0.0.0", port: 0, socket: { data() {} } });
  const port = listener.port;
  try {
    expect(await isPortFree(port)).toBe(false);
  } finally {
    listener.stop(true);
  }
  expect(await isPortFree(port)).toBe(true);
});

test("a loopback-only listener still blocks publishing on all interfaces", async () => {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  try {
    expect(await isPortFree(listener.port)).toBe(false);
  } finally {
    listener.stop(true);
  }
});

test("busyPorts keeps the entries whose port is taken", async () => {
  const taken = new Set([2, 4]);
  const ports = [1, 2, 3, 4].map((port) => ({ port, service: `s${port}` }));
  expect(await busyPorts(ports, async (p) => !taken.has(p))).toEqual([{ port: 2, service: "s2" }, { port: 4, service: "s4" }]);
});
