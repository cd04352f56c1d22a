/**
 * The election service on Bun.serve: routes the request, bounds what one client can hold
 * (idle connections time out; requests in flight are capped) and turns a broken request into
 * a 4xx, never a 500.
 */
import type { Server } from "bun";
import { errorReply, methodsOf, routes } from "./routes.ts";
import { ElectionService, type ElectionServiceOptions } from "./service.ts";
import { PageCollector, type CollectorOptions } from "../page/collector.ts";
import { defaultPageConfig } from "../page/config.ts";
import { pageRoutes } from "../page/routes.ts";

export interface ElectionServerOptions extends ElectionServiceOptions {
  host: string;
  port: number;
  /** When set, nodes authenticate with keys derived from it and admin calls with it. */
  token?: string;
  /** Seconds an idle or slow connection is kept (Bun's idle timeout; long-polls extend their own). */
  idleTimeoutSeconds?: number;
  /** Requests handled at once; more get 503 at once (a flood must not starve /healthz). */
  maxInFlight?: number;
  /** The lab page at `/`: what it shows beyond the election (src/page/config.ts). */
  page?: Partial<Omit<CollectorOptions, "service">>;
}

export interface ElectionServer {
  url: string;
  port: number;
  service: ElectionService;
  page: PageCollector;
  stop(): Promise<void>;
}

export function startElectionServer(options: ElectionServerOptions): ElectionServer {
  const service = new ElectionService(options);
  const page = new PageCollector({ ...options.page, config: options.page?.config ?? defaultPageConfig(), service });
  const table = { ...routes, ...pageRoutes(page) };
  const maxInFlight = options.maxInFlight ?? 2048;
  let inFlight = 0;
  let lastOverload = 0;

  async function handle(req: Request, server: Server<undefined>): Promise<Response> {
    const url = new URL(req.url);
    const method = req.method === "HEAD" ? "GET" : req.method;
    const route = table[`${method} ${url.pathname}`];
    if (!route) {
      const allowed = methodsOf(url.pathname, table);
      return allowed ? errorReply(405, `${url.pathname} expects ${allowed.join(" or ")}`) : errorReply(404, `no such path ${url.pathname}`);
    }
    return route({ req, url, service, token: options.token, holdOpen: (seconds) => server.timeout(req, Math.min(255, Math.ceil(seconds))) });
  }

  const server: Server<undefined> = Bun.serve({
    hostname: options.host,
    port: options.port,
    // Bun's own limit backs up the streaming check in the routes (413).
    maxRequestBodySize: 64 * 1024,
    idleTimeout: options.idleTimeoutSeconds ?? 10,
    async fetch(req, srv) {
      if (inFlight >= maxInFlight && new URL(req.url).pathname !== "/healthz") {
        const now = Date.now();
        if (now - lastOverload > 5000) service.incident("overload", `${inFlight} requests in flight (limit ${maxInFlight}); answering 503 until some finish`);
        lastOverload = now;
        return errorReply(503, `the election service is at its limit of ${maxInFlight} requests in flight; try again`);
      }
      inFlight += 1;
      try {
        return await handle(req, srv);
      } catch (error) {
        // A reader that throws here is a broken request (truncated or aborted body), not a bug to 500 on.
        return errorReply(400, `bad request: ${(error as Error).message}`);
      } finally {
        inFlight -= 1;
      }
    },
    error(error) {
      return errorReply(400, `bad request: ${error.message}`);
    },
  });
  service.start();

  return {
    url: `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${server.port}`,
    port: server.port ?? options.port,
    service,
    page,
    async stop() {
      page.stop();
      service.stop();
      await server.stop(true);
    },
  };
}
