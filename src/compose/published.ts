/**
 * The host ports a compose file publishes, and which config key sets each one, so a port
 * conflict names the service, the port and the line to change. Pure: no I/O.
 */
import type { Config } from "../config/schema.ts";
import { publishedHostPorts } from "../config/rules.ts";

export interface PublishedPort {
  service: string;
  port: number;
  /** The host address it binds (compose's host_ip); undefined: every address. */
  hostIp?: string;
  /** The config.yaml key that sets this port, when known. */
  key?: string;
}

/** "8888:8080", "127.0.0.1:8888:8080/tcp", 6379, { published: 8888 } → 8888; container-only → undefined. */
export function hostPortOf(entry: unknown): number | undefined {
  if (typeof entry === "number") return undefined; // a bare number is a container port only
  if (entry && typeof entry === "object") {
    const published = (entry as { published?: unknown }).published;
    const n = Number(published);
    return published !== undefined && Number.isInteger(n) ? n : undefined;
  }
  if (typeof entry !== "string") return undefined;
  const parts = entry.replace(/\/(tcp|udp|sctp)$/, "").split(":");
  if (parts.length < 2) return undefined;
  const host = parts[parts.length - 2]!;
  const n = Number(host);
  return /^\d+$/.test(host) && Number.isInteger(n) ? n : undefined;
}

/** "127.0.0.1:8888:8080", "[::1]:8888:8080", { host_ip: "127.0.0.1" } → that address; undefined: every address. */
export function hostIpOf(entry: unknown): string | undefined {
  if (entry && typeof entry === "object") {
    const ip = (entry as { host_ip?: unknown }).host_ip;
    return typeof ip === "string" && ip !== "" ? ip : undefined;
  }
  if (typeof entry !== "string") return undefined;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):[^:]+:/.exec(entry);
  return match ? (match[1] ?? match[2]) : undefined;
}

/** Every host port published by the services of a parsed compose document. */
export function publishedPorts(doc: unknown, only?: string[]): PublishedPort[] {
  const services = (doc as { services?: Record<string, { ports?: unknown[] }> } | null)?.services ?? {};
  const out: PublishedPort[] = [];
  for (const [service, def] of Object.entries(services)) {
    if (only && only.length > 0 && !only.includes(service)) continue;
    for (const entry of def?.ports ?? []) {
      const port = hostPortOf(entry);
      const hostIp = hostIpOf(entry);
      if (port !== undefined) out.push(hostIp ? { service, port, hostIp } : { service, port });
    }
  }
  return out;
}

/** Port number → the config key that sets it, for the services that are enabled. */
export function portConfigKeys(config: Config, gpuEnabled: boolean): Map<number, string> {
  const keys = new Map<number, string>();
  for (const use of publishedHostPorts(config, gpuEnabled)) if (!keys.has(use.port)) keys.set(use.port, use.key);
  return keys;
}

export function withConfigKeys(ports: PublishedPort[], keys: Map<number, string>): PublishedPort[] {
  return ports.map((p) => ({ ...p, key: keys.get(p.port) }));
}

/** One line per busy port: what to change to make `up` work. */
export function portConflictMessage(busy: PublishedPort[]): string {
  const lines = busy.map((p) => {
    const fix = p.key ? `change ${p.key} in config.yaml` : "change the port in config.yaml";
    return `host port ${p.port} (service ${p.service}) is already in use: stop what holds it or ${fix}`;
  });
  return lines.join("\n");
}
