/**
 * The wire format of the election service (pure): request bodies and what every answer holds.
 *
 *   GET  /healthz                          liveness and state-file health   200 {ok, version} | 503 {ok:false, error}
 *   POST /v1/claim  {node, address, host?} head lease or not                {role: head|worker|wait, term, leaseTtlMs,
 *                                                                            address | retryAfterMs, why}
 *   POST /v1/ready  {node, term}           the head's GCS port is open      200 {ok, term, leaseTtlMs} | 409 fenced
 *   POST /v1/heartbeat {node, term}        renews the lease                 200 | 409 (fenced: stop being head)
 *   POST /v1/release {node, term}          gives the lease up at once       200 | 409
 *   POST /v1/watch  {node, term}           the head's held watch (≤ 25 s)   {ok, stepDown}: true once a handover is asked
 *   POST /v1/handover {to?}                asks the head to step down       {ok, term, from, to} | 409 no head / bad to
 *   POST /v1/join   {node, address, host?} roster entry of a worker         {ok, term, head: address | null, leaseTtlMs}
 *   POST /v1/part   {node}                 a worker leaves the roster       {ok}
 *   POST /v1/hosts/leave {host}            a host leaves the cluster        {ok, removed[]}
 *   GET  /v1/join-info                     what a workstation needs to join (src/election/membership.ts)
 *   POST /v1/hosts/register {name, address} a workstation about to join
 *   POST /v1/hosts/probe {name, ports[]}   reach-back: the coordinator dials the host's ports   {ok, address, results[]}
 *   GET  /v1/head?wait=SECONDS             long-poll for a ready head       {ready, node, address}
 *   GET  /v1/head?wait=SECONDS&other=TERM  long-poll until the ready head is not that of TERM (a worker's watch)
 *   GET  /v1/cluster                       the roster                       {head, workers[]} (+ term and lease detail
 *                                                                            with the cluster token)
 *
 * Authentication (when the service has a cluster token): a node's own calls (claim, ready,
 * heartbeat, release, join, part) carry `Authorization: Bearer <node key>` (src/election/auth.ts),
 * valid only for the node named in the body, and `X-Cslr-Node: <node>` so the key is checked
 * before the body is read (src/election/admission.ts; calls without it are served as anonymous); the /v1/hosts calls, the join information and
 * the full roster need the cluster token. Errors are `{ok: false, error}`: 400 bad body, 401, 404, 405, 408 body too slow, 409 fenced, 413 body over
 * 16 KiB, 429 too many unauthenticated requests from one address, 503 the state cannot be written or the service is at its limits.
 */
import { z } from "zod";
import { isHostname, isNodeAddress } from "../config/net.ts";

/** Largest request body the service reads; larger ones get 413. */
export const maxBodyBytes = 16 * 1024;

/** Longest a long-poll is held: a client that waits longer asks again. */
export const maxWaitSeconds = 30;

const nodeName = z.string().max(253).refine(isHostname, { message: "expected a node name (letters, digits, '-' and '.')" });
const hostName = z.string().max(253).refine(isHostname, { message: "expected a host name (letters, digits, '-' and '.')" });
const nodeAddress = z.string().max(260).refine(isNodeAddress, { message: "expected host or host:port, like 10.0.0.5:6379" });
const term = z.int({ message: "expected a whole term number" }).min(1, { message: "expected a term number from 1" }).max(Number.MAX_SAFE_INTEGER);

export const claimBody = z.strictObject({ node: nodeName, address: nodeAddress, host: hostName.optional() });
export const leaseBody = z.strictObject({ node: nodeName, term });
export const joinBody = z.strictObject({ node: nodeName, address: nodeAddress, host: hostName.optional() });
export const leaveBody = z.strictObject({ host: hostName });
export const partBody = z.strictObject({ node: nodeName });
/**
 * The head's watch. `fateShared`: the agent sending it is its container's PID 1, so its exit
 * takes Ray with it (the kernel kills the whole PID namespace): the watch's connection closing
 * unanswered then means the head is dead (agent.ts, service.ts headConnectionLost).
 */
export const watchBody = z.strictObject({ node: nodeName, term, fateShared: z.boolean().optional() });
export const handoverBody = z.strictObject({ to: nodeName.optional() });

/** How long the service holds a head's watch before answering `stepDown: false`. */
export const watchHoldSeconds = 25;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses and validates a JSON body; the error names the field and what is expected. */
export function parseBody<T>(schema: z.ZodType<T>, text: string): Parsed<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: "body is not valid JSON; expected a JSON object" };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0]!;
  const path = issue.path.length > 0 ? issue.path.join(".") : "body";
  const message =
    issue.code === "unrecognized_keys"
      ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`
      : issue.code === "invalid_type" && issue.input === undefined
        ? "missing"
        : issue.message;
  return { ok: false, error: `${path}: ${message}` };
}

/** `other=TERM` of `GET /v1/head`: undefined when absent. */
export function parseTermQuery(raw: string | null): Parsed<number | undefined> {
  if (raw === null || raw === "") return { ok: true, value: undefined };
  const value = Number(raw);
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(value)) return { ok: false, error: "other: expected a whole term number" };
  return { ok: true, value };
}

/** `wait=SECONDS` of `GET /v1/head`: a number from 0 to maxWaitSeconds (missing means do not wait). */
export function parseWaitQuery(raw: string | null): Parsed<number> {
  if (raw === null || raw === "") return { ok: true, value: 0 };
  const value = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(value) || value > maxWaitSeconds) {
    return { ok: false, error: `wait: expected a number of seconds from 0 to ${maxWaitSeconds}` };
  }
  return { ok: true, value };
}
