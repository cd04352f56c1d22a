/**
 * A small client of Ray's Jobs REST API on the head's dashboard port (src/jobs/spec.ts has the
 * API and its sources). fetch and the WebSocket constructor are injectable so tests can drive
 * it; every failure is a JobsApiError whose message is one line with the fix.
 *
 * Authentication (Ray ≥ 2.52 with RAY_AUTH_MODE=token): the dashboard's middleware reads
 * `Authorization: Bearer <token>`, then `X-Ray-Authorization`, then the
 * `ray-authentication-token` cookie; it answers 401 without a token and 403 with a wrong one
 * (ray 2.60 _private/authentication/http_token_authentication.py). cslr sends the first.
 *
 * cslr sends no Origin, Referer or Sec-Fetch-* header and a non-browser User-Agent: the
 * dashboard treats requests with those as browser traffic and allows them only GET
 * (dashboard/optional_utils.py is_browser_request).
 */
import { CslrError } from "../errors.ts";
import { errorReason, firstIssue, oneLine } from "./answers.ts";
import {
  jobDetailsSchema,
  jobListSchema,
  logsResponseSchema,
  routes,
  stopResponseSchema,
  submitResponseSchema,
  versionResponseSchema,
  type JobDetails,
  type JobSubmitRequest,
  type VersionResponse,
} from "./spec.ts";
import type { z } from "zod";

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;
export type OpenWebSocket = (url: string, headers: Record<string, string>) => WebSocket;

export class JobsApiError extends CslrError {
  constructor(
    message: string,
    /** unreachable: no answer at all; http: an error status; answer: a 2xx that is not Ray's. */
    readonly kind: "unreachable" | "http" | "answer",
    readonly status?: number,
    /** A few words on why, for messages that wrap this one ("ECONNREFUSED", "HTTP 502"). */
    readonly detail: string = status === undefined ? kind : `HTTP ${status}`,
  ) {
    super(message);
    this.name = "JobsApiError";
  }
}

export interface JobsClientOptions {
  /** The head's dashboard, e.g. http://10.0.0.5:8265. */
  url: string;
  token?: string;
  fetch?: Fetch;
  openWebSocket?: OpenWebSocket;
  /** Per request; uploads get `uploadTimeoutMs`, submissions `submitTimeoutMs`. */
  timeoutMs?: number;
  uploadTimeoutMs?: number;
  /** The head waits up to 10 s for its job agent (consts.py WAIT_AVAILABLE_AGENT_TIMEOUT). */
  submitTimeoutMs?: number;
  userAgent?: string;
}

export interface TailEnd {
  /** Whether the WebSocket opened at all (false: the head refused the upgrade or was unreachable). */
  opened: boolean;
  /** 1000 when the head closed it because the job ended (job_head.py returns from the handler). */
  code: number;
  reason: string;
}

const KiB = 1024;
const MiB = 1024 * KiB;
/** Caps on answers: far above anything Ray sends for these, far below what would hurt. */
const caps = { small: 4 * MiB, list: 64 * MiB, logs: 512 * MiB } as const;

interface Call {
  method: "GET" | "POST" | "PUT";
  path: string;
  /** What cslr was doing, for messages: "submit job raysubmit_x". */
  doing: string;
  body?: string | Uint8Array<ArrayBuffer>;
  contentType?: string;
  timeoutMs?: number;
  maxBytes?: number;
  /** When set, a 404 means this job does not exist. */
  jobId?: string;
  signal?: AbortSignal;
}

interface Answer {
  status: number;
  contentType: string | null;
  text: string;
}

function describeCause(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return oneLine(typeof code === "string" && code !== "" ? code : error.message, 120);
  }
  return oneLine(String(error), 120);
}

export class JobsClient {
  readonly url: string;
  private readonly token?: string;
  private readonly fetchImpl: Fetch;
  private readonly openWebSocket: OpenWebSocket;
  private readonly timeoutMs: number;
  private readonly uploadTimeoutMs: number;
  private readonly submitTimeoutMs: number;
  private readonly userAgent: string;

  constructor(options: JobsClientOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.token = options.token;
    this.fetchImpl = options.fetch ?? fetch;
    this.openWebSocket = options.openWebSocket ?? ((url, headers) => new WebSocket(url, { headers }));
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.uploadTimeoutMs = options.uploadTimeoutMs ?? 600_000;
    this.submitTimeoutMs = options.submitTimeoutMs ?? 60_000;
    this.userAgent = options.userAgent ?? "cslr";
  }

  private headers(contentType?: string): Record<string, string> {
    const headers: Record<string, string> = { accept: "application/json", "user-agent": this.userAgent };
    if (contentType) headers["content-type"] = contentType;
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    return headers;
  }

  private async call(call: Call): Promise<Answer> {
    const timeoutMs = call.timeoutMs ?? this.timeoutMs;
    const signals = [AbortSignal.timeout(timeoutMs), ...(call.signal ? [call.signal] : [])];
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.url}${call.path}`, {
        method: call.method,
        headers: this.headers(call.contentType),
        body: call.body,
        signal: AbortSignal.any(signals),
        redirect: "manual",
      });
    } catch (error) {
      if (call.signal?.aborted) throw call.signal.reason;
      if (error instanceof Error && error.name === "TimeoutError") {
        throw new JobsApiError(
          `Ray's Jobs API at ${this.url} did not answer within ${Math.round(timeoutMs / 1000)} s while trying to ${call.doing}; check the head with cslr status`,
          "unreachable",
          undefined,
          `no answer within ${Math.round(timeoutMs / 1000)} s`,
        );
      }
      throw new JobsApiError(
        `Ray's Jobs API at ${this.url} does not answer (${describeCause(error)}) while trying to ${call.doing}; check that the cluster is up with cslr status`,
        "unreachable",
        undefined,
        describeCause(error),
      );
    }
    const text = await this.readCapped(response, call);
    return { status: response.status, contentType: response.headers.get("content-type"), text };
  }

  private async readCapped(response: Response, call: Call): Promise<string> {
    const max = call.maxBytes ?? caps.small;
    const tooBig = () =>
      new JobsApiError(
        `${this.url}${call.path} sent more than ${Math.round(max / MiB)} MiB while cslr tried to ${call.doing}; Ray's Jobs API gives no such answer: check that ${this.url} is the Ray dashboard`,
        "answer",
        response.status,
      );
    const declared = Number(response.headers.get("content-length"));
    if (Number.isFinite(declared) && declared > max) {
      await response.body?.cancel();
      throw tooBig();
    }
    const reader = response.body?.getReader();
    if (!reader) return "";
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > max) {
          await reader.cancel();
          throw tooBig();
        }
        chunks.push(value);
      }
    } catch (error) {
      if (error instanceof JobsApiError) throw error;
      if (call.signal?.aborted) throw call.signal.reason;
      throw new JobsApiError(
        `Ray's Jobs API at ${this.url} broke off its answer (${describeCause(error)}) while cslr tried to ${call.doing}; check the head with cslr status`,
        "unreachable",
        undefined,
        `answer broken off: ${describeCause(error)}`,
      );
    }
    return new TextDecoder().decode(Buffer.concat(chunks));
  }

  /** One line for an answer that is not a success. */
  private failure(call: Call, answer: Answer): JobsApiError {
    const reason = errorReason(answer.contentType, answer.text);
    const status = answer.status;
    let message: string;
    if (status === 401) {
      message = `Ray's Jobs API at ${this.url} wants a token (HTTP 401): the cluster runs with RAY_AUTH_MODE=token; give cslr the cluster's Ray token`;
    } else if (status === 403) {
      message = `Ray's Jobs API at ${this.url} refused to let cslr ${call.doing} (HTTP 403: ${reason}); use the token the cluster was started with`;
    } else if (status === 404 && call.jobId !== undefined && !reason.startsWith("an HTML page")) {
      message = `no job ${oneLine(call.jobId, 100)} on the cluster at ${this.url}; list the jobs with cslr jobs`;
    } else if (status === 404) {
      message = `${this.url}${call.path} answered HTTP 404 (${reason}); is ${this.url} the dashboard port of a Ray 2 head (8265 by default)?`;
    } else if (status === 413) {
      message = `the head at ${this.url} refused to ${call.doing}: too large (HTTP 413); list what the job does not need in .rayignore`;
    } else if (status >= 300 && status < 400) {
      message = `${this.url}${call.path} redirects (HTTP ${status}); give cslr the head's dashboard address itself`;
    } else if (status === 400) {
      message = `the head at ${this.url} refused to ${call.doing} (HTTP 400: ${reason})`;
    } else {
      message = `the head at ${this.url} failed to ${call.doing} (HTTP ${status}: ${reason}); check the head with cslr status`;
    }
    return new JobsApiError(message, "http", status);
  }

  private parse<T>(call: Call, answer: Answer, schema: z.ZodType<T>): T {
    let json: unknown;
    try {
      json = JSON.parse(answer.text);
    } catch {
      throw new JobsApiError(
        `${this.url}${call.path} answered with something that is not JSON (${oneLine(answer.text, 60) || "empty"}) when cslr tried to ${call.doing}; is ${this.url} the Ray dashboard?`,
        "answer",
        answer.status,
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new JobsApiError(
        `${this.url}${call.path} answered in a shape Ray's Jobs API does not use (${firstIssue(parsed.error)}) when cslr tried to ${call.doing}; is ${this.url} the dashboard of a Ray 2 head?`,
        "answer",
        answer.status,
      );
    }
    return parsed.data;
  }

  private async json<T>(call: Call, schema: z.ZodType<T>): Promise<T> {
    const answer = await this.call(call);
    if (answer.status !== 200) throw this.failure(call, answer);
    return this.parse(call, answer, schema);
  }

  /**
   * GET /nodes?view=summary: every node's figures as Ray's own dashboard polls them (the lab
   * page's schema, src/page/ray-nodes.ts, is passed in: this client knows the dashboard, not the page).
   */
  nodeSummary<T>(schema: z.ZodType<T>, signal?: AbortSignal): Promise<T> {
    return this.json({ method: "GET", path: "/nodes?view=summary", doing: "read the nodes' figures", maxBytes: caps.list, signal }, schema);
  }

  /** GET /api/version: the first request of a run, so a wrong address or token fails early. */
  version(signal?: AbortSignal): Promise<VersionResponse> {
    return this.json({ method: "GET", path: routes.version, doing: "read its version", signal }, versionResponseSchema);
  }

  /** GET /api/packages/gcs/{name}: 200 → true, 404 → false (dashboard_sdk.py _package_exists). */
  async packageExists(name: string, signal?: AbortSignal): Promise<boolean> {
    const call: Call = { method: "GET", path: routes.package(name), doing: `look for package ${name}`, signal };
    const answer = await this.call(call);
    if (answer.status === 200) return true;
    if (answer.status === 404 && !errorReason(answer.contentType, answer.text).startsWith("an HTML page")) return false;
    throw this.failure(call, answer);
  }

  /** PUT /api/packages/gcs/{name} with the zip as the body (dashboard_sdk.py _upload_package). */
  async uploadPackage(name: string, bytes: Uint8Array<ArrayBuffer>, signal?: AbortSignal): Promise<void> {
    const call: Call = {
      method: "PUT",
      path: routes.package(name),
      doing: `upload package ${name} (${(bytes.length / MiB).toFixed(1)} MiB)`,
      body: bytes,
      contentType: "application/octet-stream",
      timeoutMs: this.uploadTimeoutMs,
      signal,
    };
    const answer = await this.call(call);
    if (answer.status !== 200) throw this.failure(call, answer);
  }

  /** POST /api/jobs/: the submission id the head accepted. */
  async submit(request: JobSubmitRequest, signal?: AbortSignal): Promise<string> {
    const call: Call = {
      method: "POST",
      path: routes.jobs,
      doing: `submit job ${request.submission_id}`,
      body: JSON.stringify(request),
      contentType: "application/json",
      timeoutMs: this.submitTimeoutMs,
      signal,
    };
    return (await this.json(call, submitResponseSchema)).submission_id;
  }

  job(id: string, signal?: AbortSignal): Promise<JobDetails> {
    return this.json({ method: "GET", path: routes.job(id), doing: `read job ${oneLine(id, 100)}`, jobId: id, signal }, jobDetailsSchema);
  }

  list(signal?: AbortSignal): Promise<JobDetails[]> {
    return this.json({ method: "GET", path: routes.jobs, doing: "list the jobs", maxBytes: caps.list, signal }, jobListSchema);
  }

  async logs(id: string, signal?: AbortSignal): Promise<string> {
    const call: Call = { method: "GET", path: routes.logs(id), doing: `read the log of job ${oneLine(id, 100)}`, jobId: id, maxBytes: caps.logs, signal };
    return (await this.json(call, logsResponseSchema)).logs;
  }

  /** POST /api/jobs/{id}/stop: true when the job was running (common.py JobStopResponse). */
  async stop(id: string, signal?: AbortSignal): Promise<boolean> {
    const call: Call = { method: "POST", path: routes.stop(id), doing: `stop job ${oneLine(id, 100)}`, jobId: id, signal };
    return (await this.json(call, stopResponseSchema)).stopped;
  }

  /**
   * Follows `/api/jobs/{id}/logs/tail` (the WebSocket `ray job submit` and the SDK's
   * tail_job_logs read) and hands each text frame to `onText` until the head closes it or
   * `signal` aborts. Never throws: how it ended is in the result.
   */
  tail(id: string, onText: (text: string) => void, signal?: AbortSignal): Promise<TailEnd> {
    const wsUrl = `${this.url.replace(/^http/, "ws")}${routes.logsTail(id)}`;
    const { accept: _accept, ...headers } = this.headers();
    return new Promise((resolve) => {
      let opened = false;
      let settled = false;
      let socket: WebSocket;
      const finish = (end: TailEnd) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        resolve(end);
      };
      const onAbort = () => {
        try {
          socket.close(1000, "cslr stopped following");
        } catch {
          // already closed
        }
        finish({ opened, code: 1000, reason: "stopped following" });
      };
      try {
        socket = this.openWebSocket(wsUrl, headers);
      } catch (error) {
        finish({ opened: false, code: 1006, reason: describeCause(error) });
        return;
      }
      socket.binaryType = "arraybuffer";
      signal?.addEventListener("abort", onAbort, { once: true });
      socket.onopen = () => {
        opened = true;
      };
      socket.onmessage = (event: MessageEvent) => {
        if (settled) return;
        const data = event.data;
        onText(typeof data === "string" ? data : new TextDecoder().decode(data as ArrayBuffer));
      };
      socket.onclose = (event: CloseEvent) => finish({ opened, code: event.code, reason: oneLine(event.reason ?? "", 120) });
      if (signal?.aborted) onAbort();
    });
  }
}
