/**
 * The election service on Bun.serve: routes the request, bounds what one client can hold
 * (idle connections time out; a body must arrive within a deadline; requests in flight are
 * capped per class and per unauthenticated peer, src/election/admission.ts) and turns a broken
 * request into a 4xx, never a 500. Credentials are checked from the headers before any body is
 * read, so a flood of slow bodies never stands between a head and its heartbeat.
 */
import type { Server } from "bun";
import { admissionOf, Slots } from "./admission.ts";
import { errorReply, methodsOf, routes, type Handler } from "./routes.ts";
import { ElectionService, type ElectionServiceOptions } from "./service.ts";

export interface ElectionServerOptions extends ElectionServiceOptions {
  host: string;
  port: number;
  /** When set, nodes authenticate with keys derived from it and admin calls with it. */
  token?: string;
  /** Seconds an idle or slow connection is kept (Bun's idle timeout; long-polls extend their own). */
  idleTimeoutSeconds?: number;
  /** Requests handled at once per class (node calls; the rest); more get 503 at once. */
  maxInFlight?: number;
  /** Unauthenticated requests handled at once from one address; more get 429 at once. */
  maxPerPeer?: number;
  /** Milliseconds a request's body may take to arrive in full; slower ones get 408. */
  bodyDeadlineMs?: number;
  /** PEM certificate and key: the service speaks HTTPS (clients pin the certificate, src/election/tls.ts). */
  tls?: { cert: string; key: string };
  /** More routes served beside the election's (the lab page, src/page/server.ts), stopped with it. */
  extend?: (service: ElectionService) => ServerExtension;
}

/** Routes a layer above adds to the service (so the election never imports what it serves). */
export interface ServerExtension {
  routes: Record<string, Handler>;
  stop(): void;
}

export interface ElectionServer {
  url: string;
  port: number;
  service: ElectionService;
  stop(): Promise<void>;
}

/** A 429/503 answer; the incident is logged once per burst (5 s), not once per refused request. */
function overloadReply(service: ElectionService): (status: 429 | 503, error: string) => Response {
  let lastOverload = 0;
  return (status, error) => {
    const now = Date.now();
    if (now - lastOverload > 5000) service.incident("overload", `${error}; answering ${status} until some finish`);
    lastOverload = now;
    return errorReply(status, error);
  };
}

function route(
  req: Request,
  url: URL,
  server: Server<undefined>,
  table: Record<string, Handler>,
  ctx: { service: ElectionService; token?: string; bodyDeadlineMs: number },
): Promise<Response> | Response {
  const method = req.method === "HEAD" ? "GET" : req.method;
  const handler = table[`${method} ${url.pathname}`];
  if (!handler) {
    const allowed = methodsOf(url.pathname, table);
    return allowed ? errorReply(405, `${url.pathname} expects ${allowed.join(" or ")}`) : errorReply(404, `no such path ${url.pathname}`);
  }
  return handler({ req, url, ...ctx, holdOpen: (seconds) => server.timeout(req, Math.min(255, Math.ceil(seconds))) });
}

export function startElectionServer(options: ElectionServerOptions): ElectionServer {
  const service = new ElectionService(options);
  const extension = options.extend?.(service);
  const table = { ...routes, ...extension?.routes };
  const maxInFlight = options.maxInFlight ?? 2048;
  const slots = new Slots({ maxInFlight, maxPerPeer: options.maxPerPeer ?? 32 });
  const bodyDeadlineMs = options.bodyDeadlineMs ?? 5000;
  const overloaded = overloadReply(service);
  const handle = (req: Request, url: URL, server: Server<undefined>) => route(req, url, server, table, { service, token: options.token, bodyDeadlineMs });

  const server: Server<undefined> = Bun.serve({
    hostname: options.host,
    port: options.port,
    // Bun's own limit backs up the streaming check in the routes (413).
    maxRequestBodySize: 64 * 1024,
    ...(options.tls ? { tls: { cert: options.tls.cert, key: options.tls.key } } : {}),
    idleTimeout: options.idleTimeoutSeconds ?? 10,
    async fetch(req, srv) {
      const url = new URL(req.url);
      if (url.pathname === "/healthz") return handle(req, url, srv);
      const admission = admissionOf(url.pathname, req.headers, options.token);
      if (admission.kind === "refused") return errorReply(admission.status, admission.error);
      const slot = slots.take(admission.kind, srv.requestIP(req)?.address ?? "unknown");
      if (typeof slot !== "function") return overloaded(slot.status, slot.error);
      try {
        return await handle(req, url, srv);
      } catch (error) {
        // A reader that throws here is a broken request (truncated or aborted body), not a bug to 500 on.
        return errorReply(400, `bad request: ${(error as Error).message}`);
      } finally {
        slot();
      }
    },
    error(error) {
      return errorReply(400, `bad request: ${error.message}`);
    },
  });
  service.start();

  return {
    url: `${options.tls ? "https" : "http"}://${options.host.includes(":") ? `[${options.host}]` : options.host}:${server.port}`,
    port: server.port ?? options.port,
    service,
    async stop() {
      extension?.stop();
      service.stop();
      await server.stop(true);
    },
  };
}
