/**
 * Who gets a slot at the election service, decided from the request line and headers alone,
 * before a byte of the body is read (pure, no I/O). A stranger's slow body must never take the
 * place of a heartbeat, so requests fall in three classes with limits of their own:
 *
 *   lease      a node's own call whose key (Authorization) matches the node named in
 *              `X-Cslr-Node`: its own allowance, never behind anyone else's traffic
 *   admin      the cluster token: the shared allowance
 *   anonymous  everything else: the shared allowance and at most `maxPerPeer` at once per
 *              address, so one peer cannot fill the service
 *
 * A node call that names itself with a wrong key is refused here (401) without reading its body.
 * Calls without the header (agents from before it) are still served, as anonymous.
 */
import { nodeKey, presentedBearer, sameSecret } from "./auth.ts";
import { isHostname } from "../config/net.ts";

export const nodeHeader = "x-cslr-node";

/** The paths a node calls with its own key (a worker's long-poll for the head included). */
const nodePaths = new Set(["/v1/claim", "/v1/ready", "/v1/heartbeat", "/v1/release", "/v1/join", "/v1/part", "/v1/head"]);

export type Admission = { kind: "lease" | "admin" | "anonymous" } | { kind: "refused"; status: 401; error: string };

export function admissionOf(path: string, headers: Headers, token: string | undefined): Admission {
  if (token === undefined) return { kind: "anonymous" };
  const bearer = presentedBearer(headers.get("authorization"));
  const named = headers.get(nodeHeader);
  if (named !== null && nodePaths.has(path)) {
    if (!isHostname(named) || !sameSecret(bearer, nodeKey(token, named))) {
      return {
        kind: "refused",
        status: 401,
        error: `wrong node key for ${nodeHeader}; expected Authorization: Bearer <the node's key, derived from CSLR_CLUSTER_TOKEN>`,
      };
    }
    return { kind: "lease" };
  }
  return bearer !== "" && sameSecret(bearer, token) ? { kind: "admin" } : { kind: "anonymous" };
}

/** Requests in flight per class and per anonymous peer; take() says whether one more fits. */
export class Slots {
  private lease = 0;
  private shared = 0;
  private readonly perPeer = new Map<string, number>();

  constructor(private readonly limits: { maxInFlight: number; maxPerPeer: number }) {}

  /** A release function, or why the request does not fit (the caller answers 503/429). */
  take(kind: "lease" | "admin" | "anonymous", peer: string): (() => void) | { status: 429 | 503; error: string } {
    if (kind === "lease") {
      if (this.lease >= this.limits.maxInFlight) return { status: 503, error: `${this.lease} node calls in flight (limit ${this.limits.maxInFlight})` };
      this.lease += 1;
      return once(() => (this.lease -= 1));
    }
    if (this.shared >= this.limits.maxInFlight)
      return { status: 503, error: `the election service is at its limit of ${this.limits.maxInFlight} requests in flight; try again` };
    if (kind === "anonymous") {
      const held = this.perPeer.get(peer) ?? 0;
      if (held >= this.limits.maxPerPeer)
        return { status: 429, error: `${held} unauthenticated requests in flight from ${peer} (limit ${this.limits.maxPerPeer}); try again` };
      this.perPeer.set(peer, held + 1);
    }
    this.shared += 1;
    return once(() => {
      this.shared -= 1;
      if (kind !== "anonymous") return;
      const left = (this.perPeer.get(peer) ?? 1) - 1;
      if (left > 0) this.perPeer.set(peer, left);
      else this.perPeer.delete(peer);
    });
  }

  get inFlight(): number {
    return this.lease + this.shared;
  }
}

function once(action: () => void): () => void {
  let done = false;
  return () => {
    if (!done) action();
    done = true;
  };
}
