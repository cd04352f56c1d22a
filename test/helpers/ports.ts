/**
 * The one way tests pick ports. Never a fixed number: a port the OS hands out for port 0 is
 * free at that moment. For ports that compose will publish later, `freePortBlock` picks below
 * the ephemeral range, so an outgoing connection cannot take one between the check and the use
 * (seen in CI).
 */
import { readFileSync } from "node:fs";

/** A TCP port that is free on `host` right now (bound with port 0, then released). */
export function freePort(host = "127.0.0.1"): number {
  const listener = Bun.listen({ hostname: host, port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

export function portFree(port: number): boolean {
  try {
    const listener = Bun.listen({ hostname: "0.0.0.0", port, socket: { data() {} } });
    listener.stop(true);
    return true;
  } catch {
    return false;
  }
}

/** The first port the kernel uses for outgoing connections. */
function ephemeralPortStart(): number {
  try {
    return Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/**
 * The first of `count` consecutive host ports that are free, between 24000 and the ephemeral
 * range: below 24000 lie ports Ray takes itself (cslr's bridge worker range 20000–22999, Ray
 * Client's 23000–23999), which a config may not name (src/config/ray-ports.ts).
 */
export function freePortBlock(count: number): number {
  const low = 24000;
  const blocks = Math.floor((Math.min(ephemeralPortStart(), 32768) - low) / Math.max(50, count)) - 1;
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = low + Math.floor(Math.random() * blocks) * Math.max(50, count);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if (ports.every(portFree)) return base;
  }
  throw new Error(`no block of ${count} free host ports between ${low} and the ephemeral range`);
}
