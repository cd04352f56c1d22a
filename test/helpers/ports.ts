/**
 * The one way tests pick ports. Never a fixed number, and never one the OS hands out for port
 * 0: both pick below the ephemeral range, so an outgoing connection cannot take the port between
 * the check and the use (seen in CI).
 */
import { readFileSync } from "node:fs";

/**
 * A TCP port that is free on `host` and on every address right now, picked at random between
 * 24000 and the ephemeral range: a port the OS hands out for port 0 comes from that range, where
 * any process's next outgoing connection may take it before the test binds it (seen with four
 * test workers: a stand-in head's "port … is already in use").
 */
export function freePort(host = "127.0.0.1"): number {
  const { low, high } = pickRange();
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (portFree(port, host) && portFree(port)) return port;
  }
  throw new Error(`no free port between ${low} and the ephemeral range on ${host}`);
}

export function portFree(port: number, host = "0.0.0.0"): boolean {
  try {
    const listener = Bun.listen({ hostname: host, port, socket: { data() {} } });
    listener.stop(true);
    return true;
  } catch {
    return false;
  }
}

/** Where tests pick ports: from 24000 (below it, Ray's own ranges) up to the ephemeral range. */
function pickRange(): { low: number; high: number } {
  return { low: 24000, high: Math.min(ephemeralPortStart(), 32768) };
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
  const { low, high } = pickRange();
  const blocks = Math.floor((high - low) / Math.max(50, count)) - 1;
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = low + Math.floor(Math.random() * blocks) * Math.max(50, count);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if (ports.every((port) => portFree(port))) return base;
  }
  throw new Error(`no block of ${count} free host ports between ${low} and the ephemeral range`);
}
