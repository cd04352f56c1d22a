import { describe, expect, test } from "bun:test";
import { bindAttempts, busyPorts, isPortFree } from "../../src/host/ports.ts";

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
  expect(await busyPorts(ports, async (p) => !taken.has(p))).toEqual([
    { port: 2, service: "s2" },
    { port: 4, service: "s4" },
  ]);
});

/** Whether this host can listen on IPv6 loopback at all (some CI sandboxes cannot). */
const hasIpv6 = await new Promise<boolean>((resolve) => {
  try {
    const probe = Bun.listen({ hostname: "::1", port: 0, socket: { data() {} } });
    probe.stop(true);
    resolve(true);
  } catch {
    resolve(false);
  }
});
if (!hasIpv6) console.warn("SKIP IPv6 port checks: this host cannot listen on [::1]");

describe.skipIf(!hasIpv6)("IPv6 listeners (Docker publishes on [::] too)", () => {
  test("a listener on [::1] only blocks publishing on every address", async () => {
    const listener = Bun.listen({ hostname: "::1", port: 0, socket: { data() {} } });
    try {
      expect(await isPortFree(listener.port)).toBe(false);
      // Bound to one IPv4 address, the port does not meet the IPv6 listener.
      expect(await isPortFree(listener.port, "127.0.0.1")).toBe(true);
    } finally {
      listener.stop(true);
    }
  });

  test("a listener on 127.0.0.1 blocks a bind to 127.0.0.1, and to every address", async () => {
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      expect(await isPortFree(listener.port, "127.0.0.1")).toBe(false);
      expect(await isPortFree(listener.port, "::1")).toBe(true);
    } finally {
      listener.stop(true);
    }
  });
});

test("bindAttempts: every address means IPv4 and IPv6; a single address is tried alone", () => {
  expect(bindAttempts()).toEqual([
    { host: "0.0.0.0", ipv6Only: false },
    { host: "::", ipv6Only: true },
  ]);
  expect(bindAttempts("0.0.0.0")).toEqual(bindAttempts());
  expect(bindAttempts("127.0.0.1")).toEqual([{ host: "127.0.0.1", ipv6Only: false }]);
});

test("busyPorts checks each port where it will be bound", async () => {
  const seen: [number, string | undefined][] = [];
  await busyPorts([{ port: 1 }, { port: 2, hostIp: "127.0.0.1" }], async (port, hostIp) => {
    seen.push([port, hostIp]);
    return true;
  });
  expect(seen).toEqual([
    [1, undefined],
    [2, "127.0.0.1"],
  ]);
});
