/**
 * The node agent's client of the election service. Every answer is data: its body is read up
 * to a size limit within a deadline, parsed as JSON, and checked field by field (terms are
 * whole numbers, addresses are host:port, durations are bounded) before anything uses it.
 * Anything else is a protocol error with a one-line reason; nothing received is ever run.
 */
import { z } from "zod";
import { parseHostPort } from "../config/net.ts";
import { nodeHeader } from "../election/admission.ts";
import { readBounded } from "../election/client.ts";

/** Largest answer the agent reads; the service's answers are a few hundred bytes. */
const maxAnswerBytes = 64 * 1024;
const term = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
const ttl = z.int().min(100).max(3_600_000);
const headAddress = z
  .string()
  .max(260)
  .refine((v) => parseHostPort(v) !== undefined, { message: "not host:port" });

/** What the node agent accepts from POST /v1/claim (exported for the service's conformance test). */
export const claimAnswer = z.discriminatedUnion("role", [
  z.object({ role: z.literal("head"), term: term.min(1), leaseTtlMs: ttl }),
  z.object({ role: z.literal("worker"), term: term.min(1), address: headAddress, leaseTtlMs: ttl }),
  z.object({ role: z.literal("wait"), term, retryAfterMs: z.int().min(0).max(3_600_000), why: z.string().max(500).optional(), leaseTtlMs: ttl }),
]);
const leaseAnswer = z.object({ ok: z.literal(true), term: term.min(1), leaseTtlMs: ttl, stepDown: z.boolean().optional() });
const watchAnswer = z.object({ ok: z.literal(true), stepDown: z.boolean() });
const fencedAnswer = z.object({ ok: z.literal(false), term, error: z.string().max(500) });
const joinAnswer = z.object({ ok: z.boolean(), term, head: headAddress.nullable(), leaseTtlMs: ttl });
const headAnswer = z.union([z.object({ ready: z.literal(true), node: z.string().max(253), address: headAddress }), z.object({ ready: z.literal(false) })]);
const errorAnswer = z.object({ error: z.string().max(500) });

export type ClaimAnswer = z.output<typeof claimAnswer>;
export type JoinAnswer = z.output<typeof joinAnswer>;

/**
 * What one call came to. `unreachable`: no answer (refused, timed out, cut off). `refused`: the
 * service said no with a status (401, 4xx, 503) and why. `protocol`: an answer that is not what
 * the protocol says, so it is not believed.
 */
export type Outcome<T> =
  | { kind: "ok"; value: T }
  | { kind: "fenced"; term: number; reason: string }
  | { kind: "refused"; status: number; reason: string }
  | { kind: "unreachable"; reason: string }
  | { kind: "protocol"; reason: string };

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface NodeClientOptions {
  url: string;
  node: string;
  /** The node's key (src/election/auth.ts), or undefined when the service runs without a token. */
  key?: string;
  host?: string;
  fetch?: Fetch;
  /** Per-call deadline for connect, headers and body. */
  timeoutMs?: number;
  /**
   * This agent is its container's PID 1, so Ray dies with it: the head's watch says so, and
   * is never closed from this side (the service takes a closed watch for a dead head).
   */
  fateShared?: boolean;
}

/** A fate-shared watch waits for the service's answer however long it takes: this side never hangs up. */
const neverHangUpMs = 24 * 3600 * 1000;

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!.slice(0, 200);
}

export class NodeClient {
  private readonly fetch: Fetch;
  private readonly timeoutMs: number;
  private readonly base: string;

  constructor(private readonly options: NodeClientOptions) {
    this.fetch = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.base = options.url.replace(/\/+$/, "");
  }

  claim(address: string): Promise<Outcome<ClaimAnswer>> {
    return this.call("POST", "/v1/claim", { node: this.options.node, address, host: this.options.host }, claimAnswer);
  }

  /** The lease calls take a deadline of their own: a head must not wait past its self-fence time. */
  ready(term: number, timeoutMs = this.timeoutMs): Promise<Outcome<z.output<typeof leaseAnswer>>> {
    return this.call("POST", "/v1/ready", { node: this.options.node, term }, leaseAnswer, timeoutMs);
  }

  heartbeat(term: number, timeoutMs = this.timeoutMs): Promise<Outcome<z.output<typeof leaseAnswer>>> {
    return this.call("POST", "/v1/heartbeat", { node: this.options.node, term }, leaseAnswer, timeoutMs);
  }

  release(term: number): Promise<Outcome<z.output<typeof leaseAnswer>>> {
    return this.call("POST", "/v1/release", { node: this.options.node, term }, leaseAnswer);
  }

  /** The head's held watch: answers `stepDown: true` as soon as a handover is asked (else after up to `holdSeconds`). */
  watch(term: number, holdSeconds: number): Promise<Outcome<z.output<typeof watchAnswer>>> {
    if (this.options.fateShared) return this.call("POST", "/v1/watch", { node: this.options.node, term, fateShared: true }, watchAnswer, neverHangUpMs);
    return this.call("POST", "/v1/watch", { node: this.options.node, term }, watchAnswer, holdSeconds * 1000 + this.timeoutMs);
  }

  join(address: string): Promise<Outcome<JoinAnswer>> {
    return this.call("POST", "/v1/join", { node: this.options.node, address, host: this.options.host }, joinAnswer);
  }

  /** Takes this node off the roster (a clean stop of a worker). */
  part(): Promise<Outcome<unknown>> {
    return this.call("POST", "/v1/part", { node: this.options.node }, z.object({ ok: z.literal(true) }));
  }

  /** A worker's watch: answers once the ready head is not that of `term` (a release, a handover, a new head), else after `seconds`. */
  waitForHeadChange(term: number, seconds: number): Promise<Outcome<z.output<typeof headAnswer>>> {
    return this.call("GET", `/v1/head?wait=${seconds.toFixed(3)}&other=${term}`, undefined, headAnswer, seconds * 1000 + this.timeoutMs);
  }

  /** Long-poll: answers when a head is ready, or after `seconds` without one. */
  waitForHead(seconds: number): Promise<Outcome<z.output<typeof headAnswer>>> {
    return this.call("GET", `/v1/head?wait=${seconds.toFixed(3)}`, undefined, headAnswer, seconds * 1000 + this.timeoutMs);
  }

  private async call<T>(method: string, path: string, body: object | undefined, schema: z.ZodType<T>, timeoutMs = this.timeoutMs): Promise<Outcome<T>> {
    const signal = AbortSignal.timeout(timeoutMs);
    const headers: Record<string, string> = { accept: "application/json" };
    if (body) headers["content-type"] = "application/json";
    // The name travels in a header too, so the service checks the key before it reads the body.
    if (this.options.key) Object.assign(headers, { authorization: `Bearer ${this.options.key}`, [nodeHeader]: this.options.node });
    let res: Response;
    let text: string | undefined;
    try {
      res = await this.fetch(`${this.base}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined, signal, redirect: "manual" });
      text = await readBounded(res, signal, maxAnswerBytes);
    } catch (error) {
      return { kind: "unreachable", reason: signal.aborted ? `no answer within ${timeoutMs} ms` : describe(error) };
    }
    if (text === undefined) return { kind: "protocol", reason: `${method} ${path}: answer larger than ${maxAnswerBytes} bytes` };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { kind: "protocol", reason: `${method} ${path}: HTTP ${res.status} with a body that is not JSON` };
    }
    if (res.status === 200) {
      const parsed = schema.safeParse(json);
      if (parsed.success) return { kind: "ok", value: parsed.data };
      const issue = parsed.error.issues[0]!;
      return { kind: "protocol", reason: `${method} ${path}: ${issue.path.join(".") || "body"}: ${issue.message}` };
    }
    if (res.status === 409) {
      const fenced = fencedAnswer.safeParse(json);
      if (fenced.success) return { kind: "fenced", term: fenced.data.term, reason: fenced.data.error };
      return { kind: "protocol", reason: `${method} ${path}: HTTP 409 without a term and a reason` };
    }
    const error = errorAnswer.safeParse(json);
    return { kind: "refused", status: res.status, reason: error.success ? error.data.error : `HTTP ${res.status}` };
  }
}
