/**
 * Who may do what at the election service. The cluster token (CSLR_CLUSTER_TOKEN, in `.env`)
 * is the administrator's credential; each node presents a key derived from it and its own
 * name, so a node can renew or release only its own lease, and the node agent never hands
 * the cluster token to Ray.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** HMAC-SHA256 of the node's name under the cluster token, hex. */
export function nodeKey(clusterToken: string, node: string): string {
  return createHmac("sha256", clusterToken).update(`cslr node key v1\0${node}`).digest("hex");
}

/** The credential in `Authorization: Bearer …`, or "" when there is none. */
export function presentedBearer(header: string | null): string {
  return header?.startsWith("Bearer ") ? header.slice("Bearer ".length).trim() : "";
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Constant time: both sides are hashed to equal length before comparing. */
export function sameSecret(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}
