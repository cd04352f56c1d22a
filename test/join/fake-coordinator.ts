/**
 * A coordinator that says whatever a test wants (a rogue one, or an honest one to compare
 * with), on loopback: /v1/join-info answers `info`, host registration and the reach-back
 * probe say yes. It records every request it gets, so a test can prove what a member sent.
 */
import pkg from "../../package.json" with { type: "json" };
import { freePortBlock } from "../helpers/ports.ts";

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | null;
}

export interface FakeCoordinator {
  url: string;
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

/** What an honest coordinator at 127.0.0.1 says (the ray ports in a free block, so the reach-back check can listen there). */
export function honestJoinInfo(url: string): Record<string, unknown> & { ray: Record<string, unknown>; mlflow: Record<string, unknown> } {
  const base = freePortBlock(200);
  return {
    version: 1,
    cslrVersion: pkg.version,
    project: "lab",
    coordinator: { url, address: "127.0.0.1", name: "coord" },
    election: { whitelist: ["ray-cpu"], leaseTtl: 30, timeout: 10 },
    ray: {
      cpuImage: "rayproject/ray:2.60.0",
      gpuImage: "rayproject/ray:2.60.0-gpu",
      cpu: { head_port: 6379, dashboard_port: 8265, client_port: 10001 },
      gpu: { head_port: 6380, dashboard_port: 8266, client_port: 10002 },
      hostPorts: { base, per_node: 100 },
      auth: "none",
    },
    mlflow: { trackingUri: "http://127.0.0.1:5000" },
    redis: {},
  };
}

export interface FakeOptions {
  tls?: { cert: string; key: string };
  /** What the reach-back probe says of each port (default: reachable). */
  probe?: (port: number) => { port: number; reachable: boolean; error?: string };
  /** An error answer for /v1/join-info instead of `info`. */
  refuse?: { status: number; error: string };
}

export function startFakeCoordinator(info: (url: string) => unknown, options: FakeOptions = {}): FakeCoordinator {
  const { tls } = options;
  const requests: RecordedRequest[] = [];
  const server: ReturnType<typeof Bun.serve> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    ...(tls ? { tls } : {}),
    async fetch(req): Promise<Response> {
      const path = new URL(req.url).pathname;
      requests.push({ method: req.method, path, authorization: req.headers.get("authorization") });
      if (path === "/v1/join-info")
        return options.refuse ? Response.json({ error: options.refuse.error }, { status: options.refuse.status }) : Response.json(info(url));
      if (path === "/v1/hosts/register") return Response.json({ ok: true });
      if (path === "/v1/hosts/probe") {
        const body = (await req.json()) as { ports: number[] };
        return Response.json({ ok: true, address: "127.0.0.1", results: body.ports.map((port) => options.probe?.(port) ?? { port, reachable: true }) });
      }
      return Response.json({ error: "no such path" }, { status: 404 });
    },
  });
  const url: string = `${tls ? "https" : "http"}://127.0.0.1:${server.port}`;
  return { url, requests, stop: () => server.stop(true) };
}
