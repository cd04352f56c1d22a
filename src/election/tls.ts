/**
 * The election service's certificate pin, k3s-style: clients know the SHA-256 of the service's
 * certificate (from the join token, `cslr1.<pin>.<secret>`, or from the certificate file on the
 * coordinator) and talk to nothing else. Bun's fetch calls `checkServerIdentity` only after the
 * chain verifies, so a client that has only the pin first reads the certificate the server
 * shows (a TLS handshake, nothing sent), checks its hash, then trusts exactly it as the CA and
 * checks the pin again on every connection: a wrong certificate fails before any request byte
 * (so before any Authorization header) leaves (test/election/tls.test.ts).
 */
import { createHash, X509Certificate } from "node:crypto";
import { connect } from "node:tls";

import type { Fetch } from "./client.ts";

/** A pin: 64 lowercase hex digits. */
export const pinPattern = /^[0-9a-f]{64}$/;

export function pinOfDer(der: Uint8Array): string {
  return createHash("sha256").update(der).digest("hex");
}

/** The pin of a PEM certificate; undefined when the text is not one. */
export function pinOfPem(pem: string): string | undefined {
  try {
    return pinOfDer(new X509Certificate(pem).raw);
  } catch {
    return undefined;
  }
}

export class PinMismatch extends Error {
  constructor(expected: string, got: string) {
    super(`the election service's certificate is not the cluster's (sha256 ${got.slice(0, 16)}…, expected ${expected.slice(0, 16)}…): refusing to talk to it`);
    this.name = "PinMismatch";
  }
}

function hostAndPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname.replace(/^\[|\]$/g, ""), port: Number(parsed.port || 443) };
}

/** The certificate `url`'s server shows, as PEM, when its hash is `pin`; throws otherwise. Sends nothing. */
export function pinnedPeerCertificate(url: string, pin: string, timeoutMs = 5000): Promise<string> {
  const { host, port } = hostAndPort(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false, timeout: timeoutMs });
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.once("timeout", () => fail(new Error(`no TLS handshake with ${host}:${port} within ${timeoutMs} ms`)));
    socket.once("error", fail);
    socket.once("secureConnect", () => {
      const raw = socket.getPeerCertificate(true)?.raw;
      socket.destroy();
      if (!raw) return reject(new Error(`${host}:${port} showed no certificate`));
      const got = pinOfDer(raw);
      if (got !== pin) return reject(new PinMismatch(pin, got));
      resolve(new X509Certificate(raw).toString());
    });
  });
}

/**
 * A fetch that talks only to the server whose certificate hashes to `pin`. `ca`: the
 * certificate when the caller has it (the coordinator's own file); else it is read from the
 * server once, checked, and kept.
 */
export function pinnedFetch(pin: string, ca?: string): Fetch {
  let trusted: Promise<string> | undefined = ca === undefined ? undefined : Promise.resolve(ca);
  const checkServerIdentity = (_host: string, cert: { raw?: Uint8Array }) => {
    const got = cert.raw ? pinOfDer(cert.raw) : "";
    return got === pin ? undefined : new PinMismatch(pin, got);
  };
  return async (input, init) => {
    if (!input.startsWith("https://")) throw new Error(`${input}: a pinned client speaks HTTPS only`);
    trusted ??= pinnedPeerCertificate(input, pin).catch((error: unknown) => {
      trusted = undefined;
      throw error;
    });
    const cert = await trusted;
    return fetch(input, { ...init, tls: { ca: cert, checkServerIdentity } } as RequestInit);
  };
}
