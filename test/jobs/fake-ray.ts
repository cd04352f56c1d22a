/**
 * A real HTTP server on loopback playing a Ray 2.60 head's Jobs API: it checks every request
 * against ray-spec.ts (what Ray accepts) and records what does not fit in `violations`, stores
 * packages, runs each submitted job through a scripted timeline (PENDING → RUNNING → …), serves
 * its log by GET and by the WebSocket tail, and stops jobs.
 */
import type { Server, ServerWebSocket } from "bun";
import { dashboardMaxBodyBytes, isBrowserRequest, packagePath, rayJobSubmitRequest, rayRoutes, type RaySubmitRequest } from "./ray-spec.ts";

type Status = "PENDING" | "RUNNING" | "STOPPED" | "SUCCEEDED" | "FAILED";

/** One step of a job's timeline, applied after `waitMs` (10 ms by default). */
export interface Step {
  waitMs?: number;
  log?: string;
  status?: Status;
  message?: string;
  exitCode?: number;
  errorType?: string;
  /** The head goes away: every connection is closed, the port stops answering. */
  vanish?: boolean;
}

export interface FakeRayOptions {
  token?: string;
  /** Refuse the WebSocket upgrade (a proxy that does not pass it): cslr must poll. */
  refuseTail?: boolean;
  /** Stop requests are acknowledged but the job keeps running. */
  ignoreStop?: boolean;
  /** The timeline of every submitted job. */
  steps?: Step[];
  /** The nodes `GET /nodes?view=summary` lists (default: the head alone). */
  nodes?: { nodeId: string; isHeadNode: boolean; state: string }[];
  /** Answer some requests in a hostile way; undefined lets the fake answer normally. */
  override?: (request: Request, path: string) => Response | undefined | Promise<Response | undefined>;
}

export interface Recorded {
  method: string;
  path: string;
  headers: Headers;
  body: Uint8Array;
}

interface Job {
  id: string;
  request: RaySubmitRequest;
  status: Status;
  message: string | null;
  errorType: string | null;
  exitCode: number | null;
  start: number;
  end: number | null;
  log: string;
  tails: Set<ServerWebSocket<{ id: string }>>;
  timers: Timer[];
}

const defaultMessages: Record<Status, string> = {
  PENDING: "Job has not started yet. It may be waiting for the runtime environment to be set up.",
  RUNNING: "Job is currently running.",
  STOPPED: "Job was intentionally stopped.",
  SUCCEEDED: "Job finished successfully.",
  FAILED: "Job failed.",
};

const terminal = (s: Status) => s === "STOPPED" || s === "SUCCEEDED" || s === "FAILED";
const text = (body: string, status: number) => new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
const traceback = (line: string) => `Traceback (most recent call last):\n  File "job_head.py", line 1, in submit_job\n${line}\n`;

export class FakeRay {
  readonly server: Server<{ id: string }>;
  readonly url: string;
  readonly violations: string[] = [];
  readonly requests: Recorded[] = [];
  readonly packages = new Map<string, Uint8Array>();
  readonly jobs = new Map<string, Job>();
  private readonly options: FakeRayOptions;

  constructor(options: FakeRayOptions = {}) {
    this.options = options;
    this.server = Bun.serve<{ id: string }>({
      hostname: "127.0.0.1",
      port: 0,
      maxRequestBodySize: dashboardMaxBodyBytes * 2,
      fetch: (request, server) => this.handle(request, server),
      websocket: {
        open: (ws) => this.openTail(ws),
        message: () => {},
        close: (ws) => {
          this.jobs.get(ws.data.id)?.tails.delete(ws);
        },
      },
    });
    this.url = `http://127.0.0.1:${this.server.port}`;
  }

  stop(): void {
    for (const job of this.jobs.values()) job.timers.forEach(clearTimeout);
    this.server.stop(true);
  }

  /** The submit requests, parsed. */
  submitted(): RaySubmitRequest[] {
    return [...this.jobs.values()].map((j) => j.request);
  }

  calls(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path}`);
  }

  private violation(what: string): void {
    this.violations.push(what);
  }

  private async handle(request: Request, server: Server<{ id: string }>): Promise<Response | undefined> {
    const url = new URL(request.url);
    const path = url.pathname;
    const body = new Uint8Array(await request.arrayBuffer());
    this.requests.push({ method: request.method, path, headers: request.headers, body });

    if (!rayRoutes.some(([m, p]) => m === request.method && p.test(path))) {
      this.violation(`no such route in Ray: ${request.method} ${path}`);
      return text("404: Not Found", 404);
    }
    if (isBrowserRequest(request.headers) && request.method !== "GET") {
      this.violation(`browser-looking ${request.method} ${path}`);
      return text(`'${request.method}' method not allowed for browser traffic.`, 403);
    }
    if (this.options.token !== undefined) {
      const auth = request.headers.get("authorization") ?? "";
      if (!auth) return text("Unauthorized: Missing authentication token", 401);
      if (auth !== `Bearer ${this.options.token}`) return text("Forbidden: Invalid authentication token", 403);
    }
    const overridden = await this.options.override?.(request, path);
    if (overridden) return overridden;

    if (path === "/api/version") {
      return Response.json({ version: "4", ray_version: "2.60.0", ray_commit: "b7f4259e944bf6959f721b106adc366ddfa0c356", session_name: "session_fake" });
    }
    if (path === "/nodes") {
      if (url.searchParams.get("view") !== "summary") return text("400: view must be summary here", 400);
      const nodes = this.options.nodes ?? [{ nodeId: "a".repeat(56), isHeadNode: true, state: "ALIVE" }];
      return Response.json({ result: true, msg: "", data: { summary: nodes.map((raylet) => ({ hostname: "fake", raylet })) } });
    }
    const pkg = packagePath.exec(path);
    if (pkg) return this.packageRoute(request.method, pkg[2]!, body);
    if (path === "/api/jobs/" && request.method === "POST") return this.submit(body);
    if (path === "/api/jobs/") return Response.json([...this.jobs.values()].map((j) => this.details(j)));

    const match = /^\/api\/jobs\/([^/]+)(\/stop|\/logs|\/logs\/tail)?$/.exec(path)!;
    const job = this.jobs.get(decodeURIComponent(match[1]!));
    if (!job) return text(`Job ${decodeURIComponent(match[1]!)} does not exist`, 404);
    switch (match[2]) {
      case "/stop":
        return this.stopJob(job);
      case "/logs":
        return Response.json({ logs: job.log });
      case "/logs/tail":
        if (this.options.refuseTail) return text("404: Not Found", 404);
        if (server.upgrade(request, { data: { id: job.id } })) return undefined;
        this.violation("tail requested without a WebSocket upgrade");
        return text("Expected a WebSocket", 400);
      default:
        return Response.json(this.details(job));
    }
  }

  private packageRoute(method: string, name: string, body: Uint8Array): Response {
    if (method === "GET") return this.packages.has(name) ? new Response("") : text(`Package gcs://${name} does not exist`, 404);
    if (body.length > dashboardMaxBodyBytes) return text("Request Entity Too Large", 413);
    if (body.length < 22 || body[0] !== 0x50 || body[1] !== 0x4b) this.violation(`PUT ${name}: the body is not a zip archive`);
    this.packages.set(name, body);
    return new Response("");
  }

  private submit(body: Uint8Array): Response {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(body));
    } catch {
      this.violation("submit body is not JSON");
      return text(traceback("json.decoder.JSONDecodeError: Expecting value"), 400);
    }
    const parsed = rayJobSubmitRequest.safeParse(json);
    if (!parsed.success) {
      this.violation(`submit body does not fit JobSubmitRequest: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
      return text(traceback("TypeError: __init__() got an unexpected keyword argument"), 400);
    }
    const request = parsed.data;
    const uri = request.runtime_env?.working_dir;
    if (uri && !this.packages.has(uri.slice("gcs://".length))) this.violation(`submitted with ${uri}, which was never uploaded`);
    const id = request.submission_id ?? `raysubmit_${Math.random().toString(36).slice(2, 18)}`;
    if (this.jobs.has(id)) {
      return text(traceback(`ValueError: Job with submission_id ${id} already exists. Please use a different submission_id.`), 400);
    }
    const job: Job = {
      id,
      request,
      status: "PENDING",
      message: null,
      errorType: null,
      exitCode: null,
      start: Date.now(),
      end: null,
      log: "",
      tails: new Set(),
      timers: [],
    };
    this.jobs.set(id, job);
    this.schedule(job, this.options.steps ?? [{ status: "RUNNING" }, { log: "hello\n" }, { status: "SUCCEEDED", exitCode: 0 }]);
    return Response.json({ job_id: id, submission_id: id });
  }

  private schedule(job: Job, steps: Step[]): void {
    let at = 0;
    for (const step of steps) {
      at += step.waitMs ?? 10;
      job.timers.push(setTimeout(() => this.apply(job, step), at));
    }
  }

  private apply(job: Job, step: Step): void {
    if (terminal(job.status)) return;
    if (step.vanish) {
      this.stop();
      return;
    }
    if (step.log) {
      job.log += step.log;
      for (const ws of job.tails) ws.send(step.log);
    }
    if (step.status) this.setStatus(job, step.status, step);
  }

  private setStatus(job: Job, status: Status, details: Pick<Step, "message" | "exitCode" | "errorType"> = {}): void {
    job.status = status;
    job.message = details.message ?? null;
    job.errorType = details.errorType ?? null;
    if (details.exitCode !== undefined) job.exitCode = details.exitCode;
    if (terminal(status)) {
      job.end = Date.now();
      job.timers.forEach(clearTimeout);
      // The head closes the tail once the job has ended and the log is read to its end.
      for (const ws of job.tails) ws.close(1000);
    }
  }

  private stopJob(job: Job): Response {
    if (terminal(job.status)) return Response.json({ stopped: false });
    if (!this.options.ignoreStop) this.setStatus(job, "STOPPED");
    return Response.json({ stopped: true });
  }

  private openTail(ws: ServerWebSocket<{ id: string }>): void {
    const job = this.jobs.get(ws.data.id)!;
    // A new tail reads the log file from its first line.
    if (job.log) ws.send(job.log);
    if (terminal(job.status)) ws.close(1000);
    else job.tails.add(ws);
  }

  /** JobDetails as job_head.py serialises it (pydantic_models.py). */
  details(job: Job): Record<string, unknown> {
    const running = job.status !== "PENDING";
    return {
      type: "SUBMISSION",
      job_id: running ? "02000000" : null,
      submission_id: job.id,
      driver_info: running ? { id: "02000000", node_ip_address: "10.0.0.5", pid: "4242" } : null,
      status: job.status,
      entrypoint: job.request.entrypoint,
      message: job.message ?? defaultMessages[job.status],
      error_type: job.errorType,
      start_time: job.start,
      end_time: job.end,
      metadata: job.request.metadata ?? {},
      runtime_env: job.request.runtime_env ?? {},
      driver_agent_http_address: running ? "http://10.0.0.5:52365" : null,
      driver_node_id: running ? "a".repeat(56) : null,
      driver_exit_code: job.exitCode,
    };
  }
}
