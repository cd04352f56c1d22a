/** Addresses, host:port and IPv4 networks (pure). The one home of host:port parsing. */
import { cidrsOverlap, parseIpv4, parseIpv4Cidr } from "../host/ipv4.ts";

// IPv4 parsing lives in host/ipv4.ts (host/ probes need it too); config code imports it from here.
export { cidrsOverlap, ipv4InCidr, isUnadvertisable, parseIpv4, parseIpv4Cidr, type Ipv4Network } from "../host/ipv4.ts";

const hostnamePattern = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** A hostname (RFC 1123) or an IPv4 address in dotted form. */
export function isHostname(value: string): boolean {
  return hostnamePattern.test(value);
}

export interface HostPort {
  host: string;
  port: number;
}

/** `10.0.0.5:6379`, `ray-cpu:6379`, `[::1]:80` → { host, port }; undefined when not host:port with a port 1–65535. */
export function parseHostPort(text: string): HostPort | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const host = match[1] ?? match[2]!;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  if (match[2] !== undefined && !isHostname(host)) return undefined;
  return { host, port };
}

/** The host part of `host` or `host:port` (`[v6]:port` too). */
export function hostOf(address: string): string {
  return parseHostPort(address)?.host ?? address;
}

/** `host` or `host:port`: the address a node gives for itself. */
export function isNodeAddress(value: string): boolean {
  return parseHostPort(value) !== undefined || isHostname(value);
}

export function isIpv4Cidr(text: string): boolean {
  return parseIpv4Cidr(text) !== undefined;
}

/** The ports from `min` to `max`, both included (a range the schema already checked). */
export function portRange(min: number, max: number): number[] {
  return Array.from({ length: Math.max(0, max - min + 1) }, (_, i) => min + i);
}

export interface HttpUrl {
  scheme: "http" | "https";
  host: string;
  port?: number;
  /** The path, "" when there is none; never a query, a fragment or credentials. */
  path: string;
}

/**
 * A strict http(s) URL: scheme, a hostname, IPv4 or bracketed IPv6 host, an optional port and a
 * plain path, checked on the raw text. `URL.canParse` is not enough: it silently drops TAB, CR
 * and LF, so a URL it accepts can carry line breaks into a file. No control character, space,
 * credentials, query or fragment passes.
 */
export function parseHttpUrl(raw: string): HttpUrl | undefined {
  if (raw.length > 300) return undefined;
  const match = /^(https?):\/\/([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?(\/[A-Za-z0-9._~%/+-]*)?$/.exec(raw);
  if (!match) return undefined;
  const host = match[2]!;
  if (!host.startsWith("[") && !isHostname(host)) return undefined;
  if (host.startsWith("[") && !URL.canParse(raw)) return undefined;
  const port = match[3] === undefined ? undefined : Number(match[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { scheme: match[1] as "http" | "https", host, port, path: match[4] ?? "" };
}

export function isHttpUrl(raw: string): boolean {
  return parseHttpUrl(raw) !== undefined;
}

/**
 * `services.ray.gcs_store`: `redis`, `memory`, or `redis://HOST:PORT` (nothing else: no
 * credentials, path or query; the password comes from .env).
 */
export function isGcsStore(text: string): boolean {
  return text === "redis" || text === "memory" || redisStoreAddress(text) !== undefined;
}

/** `host:port` of a `redis://HOST:PORT` store; undefined for anything else. */
export function redisStoreAddress(text: string): string | undefined {
  const match = /^redis:\/\/([^/?#@\s]+)$/.exec(text);
  if (!match || parseHostPort(match[1]!) === undefined) return undefined;
  return match[1];
}
