/**
 * The join token (pure): `cslr1.<pin>.<secret>`, the way k3s's `K10<CA hash>::<credentials>`
 * carries what pins its server. The pin is the SHA-256 of the election service's certificate,
 * so a joining workstation talks only to its coordinator; the secret is the cluster token. A
 * cluster that asked for plain HTTP has no certificate: its token is the bare secret.
 */
import { pinPattern } from "../election/tls.ts";

export const joinTokenVersion = "cslr1";

/** What a cluster secret may hold: nothing a .env line, a shell or compose would read differently. */
export const secretPattern = /^[A-Za-z0-9_~+/=-]{16,512}$/;

export interface JoinToken {
  secret: string;
  /** The certificate pin; undefined for a plain-HTTP cluster's bare secret. */
  pin?: string;
}

export function formatJoinToken(token: JoinToken): string {
  return token.pin ? `${joinTokenVersion}.${token.pin}.${token.secret}` : token.secret;
}

/** The token, or a one-line reason it is not one (never echoing the secret). */
export function parseJoinToken(text: string): JoinToken | { error: string } {
  const trimmed = text.trim();
  if (trimmed.startsWith(`${joinTokenVersion}.`)) {
    const [, pin, secret] = /^cslr1\.([^.]*)\.(.*)$/s.exec(trimmed) ?? [];
    if (pin === undefined || !pinPattern.test(pin))
      return { error: "the join token's pin is not 64 hex digits; expected cslr1.<pin>.<secret> as `cslr status` prints it on the coordinator" };
    if (!secretPattern.test(secret ?? ""))
      return {
        error: "the join token's secret has characters a cluster token never has; expected cslr1.<pin>.<secret> as `cslr status` prints it on the coordinator",
      };
    return { pin, secret: secret! };
  }
  if (!secretPattern.test(trimmed)) return { error: "not a join token; expected cslr1.<pin>.<secret> as `cslr status` prints it on the coordinator" };
  return { secret: trimmed };
}

/**
 * The lines that tell how to add a workstation. The token is not on the command line: `--token -`
 * reads it from standard input, so it stays out of the process list and shell history.
 */
export function joinInstructions(url: string, token: string): string[] {
  return [
    "Add a workstation (Linux, Docker Engine): run there",
    `  cslr join ${url} --token -`,
    "and paste this join token when it asks (the cluster's secret: keep it out of command lines and shell history):",
    `  ${token}`,
  ];
}
