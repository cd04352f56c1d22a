/**
 * The HTTP shell over the election state machine, on Bun.serve. It owns the I/O the pure
 * module must not do: the clock, the state file, long-poll waiters, the token and the logs.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import type { Server } from "bun";
import { z } from "zod";
import { CslrError } from "../errors.ts";
import {
  claimBody,
  encodeText,
  hasPort,
  joinBody,
  leaseBody,
  maxBodyBytes,
  parseBody,
  parseWaitSeconds,
  wantsText,
} from "./protocol.ts";
import { Election, emptySnapshot, type Decision, type DecisionLog, type ElectionSnapshot, type HeadLease } from "./state.ts";

export interface ElectionServerOptions {
  host: string;
  port: number;
  whitelist: string[];
  leaseTtlMs: number;
  /** When set, every POST needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Where the state is written atomically on every change; none keeps it in memory. */
  statePath?: string;
  /** Receives one structured line per decision. */
  log?: (line: string) => void;
  now?: () => number;
}

export interface ElectionServer {
  url: string;
  port: number;
  election: Election;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------- state file

const headSchema = z.strictObject({
  node: z.string(),
  address: z.string(),
  term: z.int(),
  ready: z.boolean(),
  grantedAt: z.number(),
  readyAt: z.number().nullable(),
  leaseExpiresAt: z.number(),
});
const snapshotSchema = z.strictObject({
  version: z.literal(1),
  term: z.int().min(0),
  head: headSchema.nullable(),
  workers: z.array(
    z.strictObject({ node: z.string(), address: z.string(), term: z.int(), joinedAt: z.number(), lastSeen: z.number() }),
  ),
});

/** Reads the state file; a missing file is a fresh start, a damaged one a clear error. */
export function readStateFile(path: string): ElectionSnapshot {
  if (!existsSync(path)) return emptySnapshot();
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new CslrError(`${path}: election state is not valid JSON (${(error as Error).message}); restore it or delete it to start at term 0`);
  }
  const parsed = snapshotSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CslrError(`${path}: ${issue.path.join(".") || "state"}: ${issue.message}; expected a state file written by cslr health serve`);
  }
  return parsed.data;
}

/**
 * Write to a temp file beside the target, then rename: a crash leaves the old or the new file.
 * `durable` adds an fsync (milliseconds each) for what safety rests on: term and head.
 */
export function writeStateFile(path: string, snapshot: ElectionSnapshot, durable = true): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, `${JSON.stringify(snapshot)}\n`);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

// ---------------------------------------------------------------- helpers

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Constant-time: both sides are hashed to equal length before comparing. */
export function tokenMatches(header: string | null, expectedDigest: Buffer): boolean {
  const presented = header?.startsWith("Bearer ") ? header.slice("Bearer ".length).trim() : "";
  return timingSafeEqual(digest(presented), expectedDigest);
}

type Body = Record<string, unknown>;

function reply(status: number, body: Body, text: boolean): Response {
  return text
    ? new Response(encodeText(body), { status, headers: { "content-type": "text/plain; charset=utf-8" } })
    : Response.json(body, { status });
}

function errorReply(status: number, error: string, text: boolean): Response {
  return reply(status, { ok: false, error }, text);
}

/** Reads at most maxBodyBytes; null when the body is larger. */
async function readLimitedBody(req: Request): Promise<string | null> {
  const header = req.headers.get("content-length");
  const declared = Number(header ?? "0");
  if (declared > maxBodyBytes) return null;
  // A declared length is enforced by the HTTP parser; only chunked bodies are counted here.
  if (header !== null) return req.text();
  if (!req.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBodyBytes) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function headBody(head: HeadLease): Body {
  return { ready: true, node: head.node, address: head.address, term: head.term };
}

// ---------------------------------------------------------------- server

export function startElectionServer(options: ElectionServerOptions): ElectionServer {
  const now = options.now ?? Date.now;
  const electionOptions = { whitelist: options.whitelist, leaseTtlMs: options.leaseTtlMs, now };
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  const restored = Election.restore(electionOptions, options.statePath ? readStateFile(options.statePath) : emptySnapshot());
  const election = restored.outcome;
  const waiters = new Set<() => void>();
  const tokenDigest = options.token !== undefined ? digest(options.token) : undefined;

  // The last claim answer logged per node: a node asking again and getting the same answer
  // (a wait loop, a worker re-claiming) is not a new decision and is not logged again.
  const lastClaimLogged = new Map<string, string>();
  function emit(logs: DecisionLog[]): void {
    for (const entry of logs) {
      if (entry.event === "claim") {
        const key = `${entry.role}:${entry.term}`;
        if (lastClaimLogged.get(entry.node) === key) continue;
        if (lastClaimLogged.size > 10_000) lastClaimLogged.clear();
        lastClaimLogged.set(entry.node, key);
      }
      log(JSON.stringify({ ts: new Date(now()).toISOString(), ...entry }));
    }
  }

  /** Roster-only changes (joins) skip the fsync: losing one to a power cut re-elects nobody. */
  function persist(before?: ElectionSnapshot): void {
    if (!options.statePath) return;
    const after = election.snapshot();
    const durable =
      !before || before.term !== after.term || before.head?.node !== after.head?.node || before.head?.ready !== after.head?.ready;
    writeStateFile(options.statePath, after, durable);
  }

  /**
   * Applies one state-machine call: persists before answering when the state changed (a grant
   * that is not on disk could be handed out twice after a restart), rolls back if it cannot.
   */
  function apply<T>(step: () => Decision<T>): { outcome: T } | { failed: string } {
    const before = election.snapshot();
    const decision = step();
    if (decision.changed) {
      try {
        persist(before);
      } catch (error) {
        election.restoreFrom(before);
        return { failed: `cannot write the election state: ${(error as Error).message}` };
      }
    }
    emit(decision.logs);
    if (waiters.size > 0 && election.readyHead()) for (const wake of [...waiters]) wake();
    return { outcome: decision.outcome };
  }

  emit(restored.logs);
  if (restored.changed) persist();

  async function waitForReadyHead(seconds: number): Promise<HeadLease | null> {
    const head = election.readyHead();
    if (head || seconds <= 0) return head;
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        waiters.delete(wake);
        resolve(election.readyHead());
      };
      const timer = setTimeout(wake, seconds * 1000);
      waiters.add(wake);
    });
  }

  async function handlePost(req: Request, path: string, text: boolean): Promise<Response> {
    if (tokenDigest && !tokenMatches(req.headers.get("authorization"), tokenDigest)) {
      return errorReply(401, "missing or wrong token; expected Authorization: Bearer $CSLR_CLUSTER_TOKEN", text);
    }
    const raw = await readLimitedBody(req);
    if (raw === null) return errorReply(413, `body larger than ${maxBodyBytes} bytes`, text);

    if (path === "/v1/claim") {
      const body = parseBody(claimBody, raw);
      if (!body.ok) return errorReply(400, body.error, text);
      const { node, address } = body.value;
      if (options.whitelist.includes(node) && !hasPort(address)) {
        return errorReply(400, "address: a whitelisted node must give host:port (its head port)", text);
      }
      const result = apply(() => election.claim(node, address));
      if ("failed" in result) return errorReply(503, result.failed, text);
      return reply(200, { ok: true, ...result.outcome }, text);
    }
    if (path === "/v1/join") {
      const body = parseBody(joinBody, raw);
      if (!body.ok) return errorReply(400, body.error, text);
      const result = apply(() => election.join(body.value.node, body.value.address));
      if ("failed" in result) return errorReply(503, result.failed, text);
      return reply(result.outcome.ok ? 200 : 409, { ...result.outcome }, text);
    }
    const body = parseBody(leaseBody, raw);
    if (!body.ok) return errorReply(400, body.error, text);
    const { node, term } = body.value;
    const step =
      path === "/v1/ready"
        ? () => election.ready(node, term)
        : path === "/v1/heartbeat"
          ? () => election.heartbeat(node, term)
          : () => election.release(node, term);
    const result = apply(step);
    if ("failed" in result) return errorReply(503, result.failed, text);
    const outcome = result.outcome;
    return outcome.ok
      ? reply(200, { ok: true, term: outcome.term, leaseExpiresAt: outcome.leaseExpiresAt }, text)
      : reply(409, { ok: false, term: outcome.term, error: outcome.reason }, text);
  }

  const postPaths = new Set(["/v1/claim", "/v1/ready", "/v1/heartbeat", "/v1/release", "/v1/join"]);
  const getPaths = new Set(["/healthz", "/v1/head", "/v1/cluster"]);

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname;
    const text = wantsText(req.headers.get("accept"));
    if (postPaths.has(path)) {
      if (req.method !== "POST") return errorReply(405, `${path} expects POST`, text);
      return handlePost(req, path, text);
    }
    if (!getPaths.has(path)) return errorReply(404, `no such path ${path}`, text);
    if (req.method !== "GET" && req.method !== "HEAD") return errorReply(405, `${path} expects GET`, text);
    if (path === "/healthz") return reply(200, { ok: true, term: election.currentTerm }, text);
    if (path === "/v1/cluster") return Response.json(election.cluster());
    const wait = parseWaitSeconds(url.searchParams.get("wait"));
    if (!wait.ok) return errorReply(400, wait.error, text);
    const head = await waitForReadyHead(wait.value);
    return reply(200, head ? headBody(head) : { ready: false, term: election.currentTerm }, text);
  }

  const server: Server<undefined> = Bun.serve({
    hostname: options.host,
    port: options.port,
    // Bun's own limit (413) backs up the streaming check in readLimitedBody.
    maxRequestBodySize: maxBodyBytes * 4,
    // Long polls may wait up to 300 s; the idle timeout must not cut them.
    idleTimeout: 0,
    async fetch(req) {
      try {
        return await handle(req);
      } catch (error) {
        // A reader that throws here is a broken request (truncated or aborted body), not a bug to 500 on.
        return errorReply(400, `bad request: ${(error as Error).message}`, wantsText(req.headers.get("accept")));
      }
    },
    error(error) {
      return Response.json({ ok: false, error: `bad request: ${error.message}` }, { status: 400 });
    },
  });

  return {
    url: `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${server.port}`,
    port: server.port ?? options.port,
    election,
    async stop() {
      for (const wake of [...waiters]) wake();
      await server.stop(true);
    },
  };
}
