/** Addresses, host:port and IPv4 networks (pure). The one home of host:port parsing. */

const hostnamePattern =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

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

export interface Ipv4Network {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function parseIpv4Cidr(text: string): Ipv4Network | undefined {
  const match = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const address = parseIpv4(match[1]!);
  const prefix = Number(match[2]);
  if (address === undefined || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return { base: Math.floor(address / size) * size, prefix };
}

export function isIpv4Cidr(text: string): boolean {
  return parseIpv4Cidr(text) !== undefined;
}

/** The ports from `min` to `max`, both included (a range the schema already checked). */
export function portRange(min: number, max: number): number[] {
  return Array.from({ length: Math.max(0, max - min + 1) }, (_, i) => min + i);
}

export function cidrsOverlap(a: Ipv4Network, b: Ipv4Network): boolean {
  const aEnd = a.base + 2 ** (32 - a.prefix);
  const bEnd = b.base + 2 ** (32 - b.prefix);
  return a.base < bEnd && b.base < aEnd;
}

/**
 * 0.0.0.0/8, 127.0.0.0/8, 169.254.0.0/16, ::, ::1 and fe80::/10: addresses no other host can
 * dial, so never advertised as this host's.
 */
export function isUnadvertisable(address: string): boolean {
  const v4 = parseIpv4(address);
  if (v4 !== undefined) return v4 >>> 24 === 0 || v4 >>> 24 === 127 || v4 >>> 16 === (169 << 8) + 254;
  const v6 = address.toLowerCase();
  return v6 === "::" || v6 === "::1" || v6 === "localhost" || /^fe[89ab][0-9a-f]:/.test(v6);
}

/** Is `address` (IPv4) inside `cidr`? */
export function ipv4InCidr(address: string, cidr: string): boolean {
  const a = parseIpv4(address);
  const net = parseIpv4Cidr(cidr);
  return a !== undefined && net !== undefined && cidrsOverlap({ base: a, prefix: 32 }, net);
}
