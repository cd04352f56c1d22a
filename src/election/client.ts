/**
 * A small client of the election service, for `cslr status`, `up --wait`, `health ping`,
 * `join` and `leave` (the node agent has its own, src/node/client.ts). fetch is injectable so
 * callers can test without a server. Every answer is checked against its schema.
 */
import { z } from "zod";
import { joinInfoSchema, probeAnswer, type JoinInfo, type ProbeAnswer } from "./membership.ts";
import { parseClusterView, type RosterView } from "./roster.ts";
import { oneLine } from "../text.ts";

/** Reads a body up to `maxBytes`; a longer (or endless) one is undefined, never a hang past the signal. */
export async function readBounded(res: Response, signal: AbortSignal, maxBytes: number): Promise<string | undefined> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const abort = () => void reader.cancel().catch(() => {});
  signal.addEventListener("abort", abort, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        return undefined;
      }
      chunks.push(value);
    }
  } finally {
    signal.removeEventListener("abort", abort);
  }
  if (signal.aborted) throw new Error("the answer did not arrive in time");
  return new TextDecoder().decode(Buffer.concat(chunks));
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface ReadyHead {
  node: string;
  address: string;
  term: number;
}

function endpoint(url: string, path: string): string {
  return `${url.replace(/\/+$/, "")}${path}`;
}

export type ClusterResult = { roster: RosterView } | { error: string };

/**
 * The roster (head, term, since, workers and when each was last seen), or a one-line reason it
 * could not be read. Never throws: `status` and `up --wait` show the reason and go on.
 */
export async function readCluster(url: string, opts: { token?: string; fetch?: Fetch; timeoutMs?: number } = {}): Promise<ClusterResult> {
  const target = endpoint(url, "/v1/cluster");
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  try {
    const res = await (opts.fetch ?? fetch)(target, { headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 5000) });
    if (!res.ok) return { error: `${target} answered HTTP ${res.status}` };
    const roster = parseClusterView(await res.json());
    if (!roster) return { error: `${target} did not return a roster ({ head, workers })` };
    return { roster };
  } catch (error) {
    return { error: `${target} unreachable: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The cslr version the election service runs (its /healthz says), or undefined when it does not answer. */
export async function readServiceVersion(url: string, opts: { fetch?: Fetch; timeoutMs?: number } = {}): Promise<string | undefined> {
  try {
    const res = await (opts.fetch ?? fetch)(endpoint(url, "/healthz"), { signal: AbortSignal.timeout(opts.timeoutMs ?? 2000) });
    const body = (await res.json()) as { version?: unknown };
    // Data from the network: a short version-like string or nothing.
    return typeof body.version === "string" && /^[0-9A-Za-z.+-]{1,40}$/.test(body.version) ? body.version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resolves as soon as a ready head exists (long-poll, no sleeps), or null after `seconds`.
 * Connection failures are retried until the deadline: the service may still be starting.
 */
export async function waitForHead(url: string, seconds: number, fetchImpl: Fetch = fetch): Promise<ReadyHead | null> {
  const deadline = Date.now() + seconds * 1000;
  while (true) {
    const left = deadline - Date.now();
    if (left <= 0) return null;
    const waitSeconds = (Math.min(left, 60_000) / 1000).toFixed(3);
    try {
      const res = await fetchImpl(endpoint(url, `/v1/head?wait=${waitSeconds}`), {
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(left + 1000),
      });
      const body = (await res.json()) as { ready?: boolean } & Partial<ReadyHead>;
      if (res.ok && body.ready && body.node && body.address && body.term) {
        return { node: body.node, address: body.address, term: body.term };
      }
    } catch {
      // The service is not up yet: try again shortly, within the deadline.
      await Bun.sleep(Math.min(Math.max(deadline - Date.now(), 0), 200));
    }
  }
}

/** True when `GET /healthz` answers 200 within `seconds`. */
export async function ping(url: string, seconds: number, fetchImpl: Fetch = fetch): Promise<boolean> {
  try {
    const res = await fetchImpl(endpoint(url, "/healthz"), { signal: AbortSignal.timeout(Math.max(1, Math.round(seconds * 1000))) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** What an administrator's call came to: the checked answer, or a one-line reason with the HTTP status (0: no answer). */
export type AdminResult<T> = { ok: true; value: T } | { ok: false; status: number; reason: string };

async function adminCall<T>(
  url: string,
  token: string,
  method: string,
  path: string,
  body: object | undefined,
  schema: z.ZodType<T>,
  timeoutMs: number,
  fetchImpl: Fetch,
): Promise<AdminResult<T>> {
  const target = endpoint(url, path);
  const signal = AbortSignal.timeout(timeoutMs);
  let text: string | undefined;
  let status: number;
  try {
    const res = await fetchImpl(target, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: "application/json", ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal,
      redirect: "manual",
    });
    status = res.status;
    text = await readBounded(res, signal, 256 * 1024);
  } catch (error) {
    const reason = signal.aborted ? `no answer within ${timeoutMs} ms` : error instanceof Error ? error.message.split("\n")[0]! : String(error);
    return { ok: false, status: 0, reason: `${target} unreachable: ${reason}` };
  }
  if (text === undefined) return { ok: false, status, reason: `${target} answered more than 256 KiB` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, status, reason: `${target} answered HTTP ${status} with something that is not JSON` };
  }
  if (status !== 200) {
    const error = (json as { error?: unknown } | null)?.error;
    return { ok: false, status, reason: typeof error === "string" ? oneLine(error, 300) : `HTTP ${status}` };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0]!;
  // The issue names keys the server sent: printable text only.
  return { ok: false, status, reason: oneLine(`${target}: ${issue.path.join(".") || "answer"}: ${issue.message}`, 300) };
}

export interface AdminOptions {
  fetch?: Fetch;
  timeoutMs?: number;
}

export function getJoinInfo(url: string, token: string, opts: AdminOptions = {}): Promise<AdminResult<JoinInfo>> {
  return adminCall(url, token, "GET", "/v1/join-info", undefined, joinInfoSchema, opts.timeoutMs ?? 5000, opts.fetch ?? fetch);
}

const okAnswer = z.object({ ok: z.literal(true) });
const leaveAnswer = z.object({ ok: z.literal(true), removed: z.array(z.string().max(253)).max(100_000) });

export function registerHost(url: string, token: string, name: string, address: string, opts: AdminOptions = {}): Promise<AdminResult<unknown>> {
  return adminCall(url, token, "POST", "/v1/hosts/register", { name, address }, okAnswer, opts.timeoutMs ?? 5000, opts.fetch ?? fetch);
}

/** The reach-back check: the coordinator dials this host's ports (it takes up to a few seconds). */
export function probeHost(url: string, token: string, name: string, ports: number[], opts: AdminOptions = {}): Promise<AdminResult<ProbeAnswer>> {
  return adminCall(url, token, "POST", "/v1/hosts/probe", { name, ports }, probeAnswer, opts.timeoutMs ?? 30_000, opts.fetch ?? fetch);
}

export function leaveCluster(url: string, token: string, host: string, opts: AdminOptions = {}): Promise<AdminResult<{ removed: string[] }>> {
  return adminCall(url, token, "POST", "/v1/hosts/leave", { host }, leaveAnswer, opts.timeoutMs ?? 5000, opts.fetch ?? fetch);
}

const handoverAnswer = z.object({ ok: z.literal(true), term: z.int().min(1), from: z.string().max(253), to: z.string().max(253).nullable() });

/** Asks the head to step down (to `to`, or to any other whitelisted node); the cluster token is needed. */
export function askHandover(url: string, token: string, to: string | null, opts: AdminOptions = {}): Promise<AdminResult<z.output<typeof handoverAnswer>>> {
  return adminCall(url, token, "POST", "/v1/handover", to === null ? {} : { to }, handoverAnswer, opts.timeoutMs ?? 5000, opts.fetch ?? fetch);
}
