/**
 * The wire format of the election service: request validation and response encoding (pure).
 *
 *   GET  /healthz                      liveness, always open          {ok, term}
 *   POST /v1/claim   {node, address}   head lease or not              {role: head|worker|wait, term,
 *                                                                      leaseTtlMs | address | retryAfterMs}
 *   POST /v1/ready   {node, term}      head's GCS port is open        200 {ok, term, leaseExpiresAt} | 409
 *   POST /v1/heartbeat {node, term}    renews the lease               200 | 409 (fenced: stop being head)
 *   POST /v1/release {node, term}      gives the lease up at once     200 | 409
 *   POST /v1/join    {node, address}   worker roster entry            {ok, term, head: address | null}
 *   GET  /v1/head?wait=SECONDS         long-poll for a ready head     {ready, node, address, term}
 *   GET  /v1/cluster                   roster for `cslr status`       {term, head, workers[]}
 *
 * POSTs need `Authorization: Bearer $CSLR_CLUSTER_TOKEN` when a token is configured (401).
 * Errors are `{ok: false, error}`: 400 bad body, 401, 404 unknown path, 405 wrong method,
 * 409 fenced, 413 body over 16 KiB, 503 the state file cannot be written (nothing granted).
 *
 * Responses are JSON, or `KEY=value` lines when the client sends `Accept: text/plain` so the
 * bash entrypoint needs no jq. Keys of the text form are the JSON keys in UPPER_SNAKE case;
 * nested objects are not encoded (the text form is only for the flat answers bash reads).
 */
import { z } from "zod";
import { isHostname } from "../config/schema.ts";

/** Largest request body the service reads; larger ones get 413. */
export const maxBodyBytes = 16 * 1024;

const nodeName = z.string().refine(isHostname, { message: "expected a hostname (letters, digits, '-' and '.')" });

/** `host` or `host:port`: the address other nodes reach this node by. */
export function isNodeAddress(value: string): boolean {
  const match = /^(.+):(\d{1,5})$/.exec(value);
  if (!match) return isHostname(value);
  const port = Number(match[2]);
  return isHostname(match[1]!) && port >= 1 && port <= 65535;
}

export function hasPort(address: string): boolean {
  return /:\d{1,5}$/.test(address);
}

const nodeAddress = z.string().refine(isNodeAddress, { message: "expected host or host:port, like ray-cpu:6379" });
const term = z.int({ message: "expected a whole term number" }).min(1, { message: "expected a term number from 1" });

export const claimBody = z.strictObject({ node: nodeName, address: nodeAddress });
export const leaseBody = z.strictObject({ node: nodeName, term });
export const joinBody = z.strictObject({ node: nodeName, address: nodeAddress });

export type ClaimBody = z.infer<typeof claimBody>;
export type LeaseBody = z.infer<typeof leaseBody>;
export type JoinBody = z.infer<typeof joinBody>;

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

/** `wait=SECONDS` of `GET /v1/head`: a number from 0 to 300 (missing means do not wait). */
export function parseWaitSeconds(raw: string | null): Parsed<number> {
  if (raw === null || raw === "") return { ok: true, value: 0 };
  const value = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(value) || value > 300) {
    return { ok: false, error: "wait: expected a number of seconds from 0 to 300" };
  }
  return { ok: true, value };
}

export function wantsText(accept: string | null): boolean {
  return accept !== null && /\btext\/plain\b/i.test(accept) && !/\bapplication\/json\b/i.test(accept);
}

function upperSnake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

/** Flat `KEY=value` lines; values are sanitised so a line can never be split or injected. */
export function encodeText(body: Record<string, unknown>): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (value !== null && typeof value === "object") continue;
    const text = value === null || value === undefined ? "" : typeof value === "boolean" ? (value ? "1" : "0") : String(value);
    lines.push(`${upperSnake(key)}=${text.replace(/[\r\n]+/g, " ")}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Parses `KEY=value` lines (what the entrypoint reads), for tests and the client. */
export function decodeText(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
