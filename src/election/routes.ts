/**
 * The election service's HTTP routes: a table from `METHOD /path` to a small handler. Each
 * handler checks who is asking, parses its body against the protocol's schema and calls the
 * service; nothing here keeps state.
 */
import pkg from "../../package.json" with { type: "json" };
import { nodeKey, presentedBearer, sameSecret } from "./auth.ts";
import {
  claimBody,
  handoverBody,
  joinBody,
  leaseBody,
  leaveBody,
  maxBodyBytes,
  partBody,
  parseBody,
  parseTermQuery,
  parseWaitQuery,
  watchBody,
  watchHoldSeconds,
  type Parsed,
} from "./protocol.ts";
import type { ElectionService } from "./service.ts";
import { maxProbePorts, probeBody, probeTimeoutMs, registerBody } from "./membership.ts";
import type { ClusterView, HeadLease } from "./state.ts";
import { dial } from "../host/ports.ts";
import type { z } from "zod";

export interface RouteContext {
  req: Request;
  url: URL;
  service: ElectionService;
  /** The cluster token; undefined runs the service open (no authentication). */
  token?: string;
  /** Milliseconds the whole body may take to arrive; a slower one is answered 408. */
  bodyDeadlineMs: number;
  /** Holds a long-poll open past the server's idle timeout. */
  holdOpen(seconds: number): void;
}

export type Handler = (ctx: RouteContext) => Promise<Response> | Response;

type Body = Record<string, unknown>;

export function reply(status: number, body: Body): Response {
  return Response.json(body, { status });
}

export function errorReply(status: number, error: string): Response {
  return reply(status, { ok: false, error });
}

type BodyRead = string | { status: 408 | 413; error: string };

/** Reads at most maxBodyBytes within the deadline; a status when the body is larger or slower. */
async function readBody(req: Request, deadlineMs: number): Promise<BodyRead> {
  const tooLarge = { status: 413, error: `body larger than ${maxBodyBytes} bytes` } as const;
  const header = req.headers.get("content-length");
  if (header !== null && Number(header) > maxBodyBytes) return tooLarge;
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), deadlineMs)));
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), late]);
      if (next === "late") {
        await reader.cancel().catch(() => {});
        return { status: 408, error: `the body did not arrive within ${deadlineMs} ms` };
      }
      if (next.done) break;
      size += next.value.byteLength;
      if (size > maxBodyBytes) {
        await reader.cancel();
        return tooLarge;
      }
      chunks.push(next.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** Reads at most maxBodyBytes within 5 s (the lab page's forms); null when the body is larger or slower. */
export async function readLimitedBody(req: Request, deadlineMs = 5000): Promise<string | null> {
  const read = await readBody(req, deadlineMs);
  return typeof read === "string" ? read : null;
}

function isClusterAdmin(ctx: RouteContext): boolean {
  return ctx.token === undefined || sameSecret(presentedBearer(ctx.req.headers.get("authorization")), ctx.token);
}

function isNode(ctx: RouteContext, node: string): boolean {
  return ctx.token === undefined || sameSecret(presentedBearer(ctx.req.headers.get("authorization")), nodeKey(ctx.token, node));
}

const unauthorizedNode = "missing or wrong node key; expected Authorization: Bearer <the node's key, derived from CSLR_CLUSTER_TOKEN>";
const unauthorizedAdmin = "missing or wrong token; expected Authorization: Bearer $CSLR_CLUSTER_TOKEN";

/** The cluster token, then body → schema; a Response when any step fails. */
async function adminRequest<T>(ctx: RouteContext, schema: z.ZodType<T>): Promise<T | Response> {
  if (!isClusterAdmin(ctx)) return errorReply(401, unauthorizedAdmin);
  const raw = await readBody(ctx.req, ctx.bodyDeadlineMs);
  if (typeof raw !== "string") return errorReply(raw.status, raw.error);
  const body: Parsed<T> = parseBody(schema, raw);
  return body.ok ? body.value : errorReply(400, body.error);
}

/** Body → schema → the caller's credential for the node it names; a Response when any step fails. */
async function nodeRequest<T extends { node: string }>(ctx: RouteContext, schema: z.ZodType<T>): Promise<T | Response> {
  const raw = await readBody(ctx.req, ctx.bodyDeadlineMs);
  if (typeof raw !== "string") return errorReply(raw.status, raw.error);
  const body: Parsed<T> = parseBody(schema, raw);
  if (!body.ok) return errorReply(400, body.error);
  if (!isNode(ctx, body.value.node)) return errorReply(401, unauthorizedNode);
  return body.value;
}

function leaseHandler(step: "ready" | "heartbeat" | "release"): Handler {
  return async (ctx) => {
    const body = await nodeRequest(ctx, leaseBody);
    if (body instanceof Response) return body;
    const result = ctx.service.apply(() => ctx.service.election[step](body.node, body.term));
    if ("failed" in result) return errorReply(503, result.failed);
    const outcome = result.outcome;
    if (outcome.ok) ctx.service.heard(body.node, body.term);
    return outcome.ok ? reply(200, { ...outcome }) : reply(409, { ok: false, term: outcome.term, error: outcome.reason });
  };
}

function headBody(head: HeadLease | null): Body {
  return head ? { ready: true, node: head.node, address: head.address } : { ready: false };
}

/** What anyone may see: who is head and who joined, without terms or lease detail. */
export function publicView(view: ClusterView): Body {
  return {
    head: view.head && { node: view.head.node, host: view.head.host, address: view.head.address, ready: view.head.ready, since: view.head.since },
    workers: view.workers.map((w) => ({ node: w.node, host: w.host, address: w.address, joinedAt: w.joinedAt, ageMs: w.ageMs })),
  };
}

export const routes: Record<string, Handler> = {
  "GET /healthz": (ctx) => {
    const problem = ctx.service.unhealthy;
    return problem === undefined ? reply(200, { ok: true, version: pkg.version }) : reply(503, { ok: false, version: pkg.version, error: problem });
  },

  "POST /v1/claim": async (ctx) => {
    const body = await nodeRequest(ctx, claimBody);
    if (body instanceof Response) return body;
    if (ctx.service.election.isWhitelisted(body.node) && !/:\d+$/.test(body.address)) {
      return errorReply(400, "address: a whitelisted node must give host:port (its head port)");
    }
    const result = ctx.service.apply(() => ctx.service.election.claim(body.node, body.address, body.host));
    if ("failed" in result) return errorReply(503, result.failed);
    if (result.outcome.role === "unavailable") return errorReply(503, result.outcome.reason);
    return reply(200, { ok: true, ...result.outcome });
  },

  "POST /v1/ready": leaseHandler("ready"),
  "POST /v1/heartbeat": leaseHandler("heartbeat"),
  "POST /v1/release": leaseHandler("release"),

  /** The head holds this open; it is answered at once when a handover is asked, so the head steps down without waiting for its next heartbeat. */
  "POST /v1/watch": async (ctx) => {
    const body = await nodeRequest(ctx, watchBody);
    if (body instanceof Response) return body;
    ctx.holdOpen(watchHoldSeconds + 5);
    ctx.service.heard(body.node, body.term);
    let answered = false;
    if (body.fateShared) {
      const heldSince = performance.now();
      // Closed by the head before the hold ran out (not by this server's own timeout, later): its agent is gone.
      ctx.req.signal.addEventListener(
        "abort",
        () => {
          if (!answered && performance.now() - heldSince < watchHoldSeconds * 1000) ctx.service.headConnectionLost(body.node, body.term);
        },
        { once: true },
      );
    }
    const stepDown = await ctx.service.watchLease(body.node, body.term, watchHoldSeconds);
    answered = true;
    return reply(200, { ok: true, stepDown });
  },

  "POST /v1/handover": async (ctx) => {
    const body = await adminRequest(ctx, handoverBody);
    if (body instanceof Response) return body;
    const result = ctx.service.apply(() => ctx.service.election.askHandover(body.to ?? null));
    if ("failed" in result) return errorReply(503, result.failed);
    const outcome = result.outcome;
    return outcome.ok ? reply(200, { ...outcome }) : errorReply(409, outcome.reason);
  },

  "POST /v1/join": async (ctx) => {
    const body = await nodeRequest(ctx, joinBody);
    if (body instanceof Response) return body;
    const result = ctx.service.apply(() => ctx.service.election.join(body.node, body.address, body.host));
    if ("failed" in result) return errorReply(503, result.failed);
    return reply(result.outcome.ok ? 200 : 409, { ...result.outcome });
  },

  "POST /v1/part": async (ctx) => {
    const body = await nodeRequest(ctx, partBody);
    if (body instanceof Response) return body;
    const result = ctx.service.apply(() => ctx.service.election.part(body.node));
    if ("failed" in result) return errorReply(503, result.failed);
    return reply(200, { ok: true });
  },

  "POST /v1/hosts/leave": async (ctx) => {
    const body = await adminRequest(ctx, leaveBody);
    if (body instanceof Response) return body;
    const result = ctx.service.apply(() => ctx.service.election.leave(body.host));
    if ("failed" in result) return errorReply(503, result.failed);
    ctx.service.hosts.delete(body.host);
    return reply(200, { ok: true, removed: result.outcome.removed });
  },

  "GET /v1/join-info": (ctx) => {
    if (!isClusterAdmin(ctx)) return errorReply(401, unauthorizedAdmin);
    const info = ctx.service.joinInfo;
    if (!info)
      return errorReply(
        404,
        "this coordinator gives no join information: it runs Ray in bridge networking (one workstation); set network.mode: host there for several workstations",
      );
    // Ray's token comes from the service's environment, so it is never written into _build/.
    const authToken = info.ray.auth === "token" ? process.env.RAY_AUTH_TOKEN : undefined;
    const gcsPassword = info.redis.gcsNamespace ? process.env.RAY_REDIS_PASSWORD : undefined;
    return reply(200, {
      ...info,
      ray: { ...info.ray, ...(authToken ? { authToken } : {}) },
      redis: { ...info.redis, ...(gcsPassword ? { gcsPassword } : {}) },
    });
  },

  "POST /v1/hosts/register": async (ctx) => {
    const body = await adminRequest(ctx, registerBody);
    if (body instanceof Response) return body;
    ctx.service.registerHost(body.name, body.address);
    return reply(200, { ok: true });
  },

  /**
   * The reach-back check: dials a workstation of the cluster (registered, or on the roster) on
   * the ports it names, each bounded in time, one check per host at a time. Never an open
   * port scanner: only holders of the cluster token, only addresses of the cluster's hosts.
   */
  "POST /v1/hosts/probe": async (ctx) => {
    const body = await adminRequest(ctx, probeBody);
    if (body instanceof Response) return body;
    const address = ctx.service.addressOfHost(body.name);
    if (!address) return errorReply(404, `host ${body.name} is not in the cluster; it registers first (cslr join does)`);
    if (ctx.service.probing.has(body.name)) return errorReply(409, `a reach-back check of ${body.name} is already running`);
    ctx.service.probing.add(body.name);
    try {
      const ports = [...new Set(body.ports)].slice(0, maxProbePorts);
      const results: { port: number; reachable: boolean; error?: string }[] = [];
      for (let i = 0; i < ports.length; i += 32) {
        const batch = await Promise.all(ports.slice(i, i + 32).map(async (port) => ({ port, ...(await dial(address, port, probeTimeoutMs)) })));
        results.push(...batch);
      }
      return reply(200, { ok: true, address, results });
    } finally {
      ctx.service.probing.delete(body.name);
    }
  },

  "GET /v1/head": async (ctx) => {
    const wait = parseWaitQuery(ctx.url.searchParams.get("wait"));
    if (!wait.ok) return errorReply(400, wait.error);
    const other = parseTermQuery(ctx.url.searchParams.get("other"));
    if (!other.ok) return errorReply(400, other.error);
    if (wait.value > 0) ctx.holdOpen(wait.value + 5);
    return reply(200, headBody(await ctx.service.waitForReadyHead(wait.value, other.value)));
  },

  "GET /v1/cluster": (ctx) => {
    const view = ctx.service.cluster();
    return reply(200, isClusterAdmin(ctx) ? { ...view } : publicView(view));
  },
};

/** The allowed methods of a path, for 405; undefined for an unknown path. */
export function methodsOf(path: string, table: Record<string, Handler> = routes): string[] | undefined {
  const methods = Object.keys(table)
    .filter((key) => key.slice(key.indexOf(" ") + 1) === path)
    .map((key) => key.slice(0, key.indexOf(" ")));
  return methods.length > 0 ? methods : undefined;
}
