/**
 * IPv4 addresses and prefixes as numbers: parsing, overlap, and the addresses no other host can
 * dial. Below config/ (which re-exports it) so host/ probes can use it too.
 */

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
