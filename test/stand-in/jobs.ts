/**
 * The stand-in head's dashboard: the Ray Jobs REST API subset cslr uses, with Ray 2.60's
 * paths, status codes, field names and token auth (see ray.ts for the summary). Jobs run
 * here, on the head, with `bash -c`, like Ray runs a job's entrypoint on the head node.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import type { Server, ServerWebSocket } from "bun";
import { type Auth, imitatedRay, prefix, say, standInVersion } from "./common.ts";
import { unzipTo } from "./zip.ts";

export interface DashboardOptions {
  host: string;
  port: number;
  auth: Auth;
  nodeIp: string;
  gcsAddress: string;
  nodeId: string;
  /** The head's dashboard agent HTTP address (Ray submits jobs through it); undefined when it failed to bind. */
  agentAddress: string | undefined;
  stateDir: string;
  sessionName: string;
  /** The cluster's nodes as the head knows them, for `GET /nodes?view=summary`. */
  nodes?: () => StandInNode[];
}

/** One entry of the dashboard's node list (the fields cslr reads of Ray 2.60's node_head.py summary). */
export interface StandInNode {
  hostname: string;
  ip: string;
  nodeId: string;
  alive: boolean;
  isHead: boolean;
}

type Status = "PENDING" | "RUNNING" | "STOPPED" | "SUCCEEDED" | "FAILED";
const terminal = new Set<Status>(["STOPPED", "SUCCEEDED", "FAILED"]);

interface Job {
  submissionId: string;
  entrypoint: string;
  status: Status;
  message: string;
  errorType: string | null;
  startTime: number;
  endTime: number | null;
  metadata: Record<string, string> | null;
  runtimeEnv: Record<string, unknown> | null;
  driverAgentHttpAddress: string | null;
  driverNodeId: string | null;
  driverExitCode: number | null;
  dir: string;
  logPath: string;
  child?: ChildProcess;
  stopRequested: boolean;
}

/** Ray's dashboard accepts request bodies up to 100 MiB (working_dir uploads). */
const maxBodyBytes = 100 * 1024 ** 2;

const publicPaths = new Set([
  "/",
  "/favicon.ico",
  "/api/authentication_mode",
  "/api/authenticate",
  "/api/healthz",
  "/api/gcs_healthz",
  "/api/local_raylet_healthz",
  "/-/healthz",
]);

function text(body: string, status: number): Response {
  return new Response(body, { status, headers: { "Content-Type": "text/plain; charset=utf-8" } });
}

function json(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value), { status, headers: { "Content-Type": "application/json; charset=utf-8" } });
}

/** Python's name for a JSON value's type, as Ray's validation messages use it. */
function pyType(value: unknown): string {
  if (value === null) return "NoneType";
  if (Array.isArray(value)) return "list";
  if (typeof value === "string") return "str";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  return "dict";
}

function isDict(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Python's isinstance(x, (int, float)): bool counts as int there. */
function isNumber(value: unknown): boolean {
  return typeof value === "number" || typeof value === "boolean";
}

const submitFields = [
  "entrypoint",
  "submission_id",
  "job_id",
  "runtime_env",
  "metadata",
  "entrypoint_num_cpus",
  "entrypoint_num_gpus",
  "entrypoint_memory",
  "entrypoint_resources",
  "entrypoint_label_selector",
];

/** JobSubmitRequest's checks (Ray: dataclass + __post_init__); null-valued fields are dropped first. */
export function validateSubmit(body: Record<string, unknown>): string | undefined {
  for (const key of Object.keys(body)) {
    if (!submitFields.includes(key)) return `TypeError: JobSubmitRequest has no field '${key}' (fields: ${submitFields.join(", ")})`;
  }
  if (!("entrypoint" in body)) return "TypeError: JobSubmitRequest is missing the required field 'entrypoint'";
  if (typeof body.entrypoint !== "string") return `TypeError: entrypoint must be a string, got ${pyType(body.entrypoint)}`;
  for (const key of ["submission_id", "job_id"]) {
    if (key in body && typeof body[key] !== "string") return `TypeError: ${key} must be a string if provided, got ${pyType(body[key])}`;
  }
  if ("runtime_env" in body && !isDict(body.runtime_env)) return `TypeError: runtime_env must be a dict, got ${pyType(body.runtime_env)}`;
  if ("metadata" in body) {
    if (!isDict(body.metadata)) return `TypeError: metadata must be a dict, got ${pyType(body.metadata)}`;
    for (const [k, v] of Object.entries(body.metadata)) {
      if (typeof v !== "string") return `TypeError: metadata values must be strings, got ${pyType(v)} for '${k}'`;
    }
  }
  for (const key of ["entrypoint_num_cpus", "entrypoint_num_gpus"]) {
    if (key in body && !isNumber(body[key])) return `TypeError: ${key} must be a number, got ${pyType(body[key])}`;
  }
  if ("entrypoint_memory" in body && !(typeof body.entrypoint_memory === "boolean" || Number.isInteger(body.entrypoint_memory))) {
    return `TypeError: entrypoint_memory must be an integer, got ${pyType(body.entrypoint_memory)}`;
  }
  if ("entrypoint_resources" in body) {
    if (!isDict(body.entrypoint_resources)) return `TypeError: entrypoint_resources must be a dict, got ${pyType(body.entrypoint_resources)}`;
    for (const [k, v] of Object.entries(body.entrypoint_resources)) {
      if (!isNumber(v)) return `TypeError: entrypoint_resources values must be numbers, got ${pyType(v)} for '${k}'`;
    }
  }
  if ("entrypoint_label_selector" in body) {
    if (!isDict(body.entrypoint_label_selector)) return `TypeError: entrypoint_label_selector must be a dict, got ${pyType(body.entrypoint_label_selector)}`;
    for (const [k, v] of Object.entries(body.entrypoint_label_selector)) {
      if (typeof v !== "string") return `TypeError: entrypoint_label_selector values must be strings, got ${pyType(v)} for '${k}'`;
    }
  }
  return undefined;
}

/** Ray's generated submission ids: `raysubmit_` and 16 characters without look-alikes. */
function generateSubmissionId(): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `raysubmit_${[...bytes].map((b) => alphabet[b % alphabet.length]).join("")}`;
}

function details(job: Job): Record<string, unknown> {
  return {
    type: "SUBMISSION",
    job_id: null,
    submission_id: job.submissionId,
    driver_info: null,
    status: job.status,
    entrypoint: job.entrypoint,
    message: job.message,
    error_type: job.errorType,
    start_time: job.startTime,
    end_time: job.endTime,
    metadata: job.metadata,
    runtime_env: job.runtimeEnv,
    driver_agent_http_address: job.driverAgentHttpAddress,
    driver_node_id: job.driverNodeId,
    driver_exit_code: job.driverExitCode,
  };
}

function appendLog(job: Job, line: string): void {
  const fd = openSync(job.logPath, "a");
  try {
    writeSync(fd, `${prefix} ${line}\n`);
  } finally {
    closeSync(fd);
  }
}

/** The last `lines` lines of the job's log, at most `maxChars` characters (Ray: 10 lines, 20,000 chars). */
function logTail(job: Job, lines = 10, maxChars = 20_000): string {
  if (!existsSync(job.logPath)) return "";
  const all = readFileSync(job.logPath, "utf8").split("\n");
  if (all.at(-1) === "") all.pop();
  return all.slice(-lines).join("\n").slice(-maxChars);
}

interface TailData {
  job: Job;
  offset: number;
  timer?: ReturnType<typeof setInterval>;
}

export interface Dashboard {
  server: Server<TailData>;
  /** Kills every running job (the head is going away). */
  killJobs(): void;
}

export function startDashboard(options: DashboardOptions): Dashboard {
  const jobs = new Map<string, Job>();
  const packages = new Map<string, Uint8Array>();
  const jobsDir = join(options.stateDir, "jobs");
  const noAgent = () =>
    text(
      `${prefix} the head's dashboard agent has no HTTP server (its listen port failed to bind), so jobs cannot be submitted or read; Ray answers 500 the same way`,
      500,
    );

  function authError(req: Request, path: string): Response | undefined {
    if (!options.auth.enabled || publicPaths.has(path) || path.startsWith("/static/")) return undefined;
    let header = req.headers.get("authorization") ?? "";
    if (!header) header = req.headers.get("x-ray-authorization") ?? "";
    if (!header) {
      const cookie = /(?:^|;\s*)ray-authentication-token=([^;]*)/.exec(req.headers.get("cookie") ?? "")?.[1];
      if (cookie) header = `Bearer ${decodeURIComponent(cookie)}`;
    }
    if (!header) return text(`${prefix} 401 Unauthorized: token authentication is on and the request has no token (send "Authorization: Bearer <token>")`, 401);
    if (header !== `Bearer ${options.auth.token}`) return text(`${prefix} 403 Forbidden: the authentication token does not match the cluster's`, 403);
    return undefined;
  }

  function setStatus(job: Job, status: Status, message: string, extra: Partial<Job> = {}): void {
    Object.assign(job, { status, message }, extra);
    if (terminal.has(status)) job.endTime = Date.now();
    say(`job ${job.submissionId}: ${status}${status === "FAILED" ? ` (${job.errorType})` : ""}`);
  }

  /** PENDING → runtime env → RUNNING → SUCCEEDED/FAILED/STOPPED, in the background. */
  async function run(job: Job): Promise<void> {
    appendLog(job, `setting up the runtime env of job ${job.submissionId}`);
    const env = job.runtimeEnv ?? {};
    const envVars = (env.env_vars ?? {}) as unknown;
    if (!isDict(envVars) || Object.values(envVars).some((v) => typeof v !== "string")) {
      const bad = isDict(envVars) ? Object.entries(envVars).find(([, v]) => typeof v !== "string") : undefined;
      setStatus(
        job,
        "FAILED",
        `${prefix} runtime_env['env_vars'] must map strings to strings, got ${bad ? `${pyType(bad[1])} for '${bad[0]}'` : pyType(envVars)}`,
        { errorType: "JOB_SUPERVISOR_ACTOR_START_FAILURE" },
      );
      return;
    }
    for (const key of Object.keys(env)) {
      if (key !== "env_vars" && key !== "working_dir") appendLog(job, `runtime_env field '${key}' is ignored by the stand-in`);
    }
    let cwd = process.cwd();
    if (env.working_dir !== undefined) {
      const uri = env.working_dir;
      const match = typeof uri === "string" ? /^gcs:\/\/(.+)$/.exec(uri) : null;
      const data = match ? packages.get(uri as string) : undefined;
      if (!match || !data) {
        const why = !match
          ? `working_dir ${JSON.stringify(uri)} is not a gcs:// package URI (the job SDK uploads the folder and sends gcs://_ray_pkg_<hash>.zip; the stand-in runs nothing else)`
          : `package ${uri} was never uploaded (PUT /api/packages/gcs/${match[1]} first)`;
        setStatus(job, "FAILED", `${prefix} runtime env setup failed: ${why}`, { errorType: "RUNTIME_ENV_SETUP_FAILURE" });
        return;
      }
      cwd = join(job.dir, "working_dir");
      rmSync(cwd, { recursive: true, force: true });
      try {
        unzipTo(data, cwd);
      } catch (error) {
        setStatus(job, "FAILED", `${prefix} runtime env setup failed: cannot unpack ${uri}: ${(error as Error).message}`, {
          errorType: "RUNTIME_ENV_SETUP_FAILURE",
        });
        return;
      }
    }
    if (job.stopRequested) {
      setStatus(job, "STOPPED", `${prefix} job was stopped on request before it started`);
      return;
    }
    setStatus(job, "RUNNING", `${prefix} job is running`, { driverAgentHttpAddress: options.agentAddress ?? null, driverNodeId: options.nodeId });
    appendLog(job, `running the entrypoint of job ${job.submissionId} with bash -c in ${cwd}: ${job.entrypoint}`);
    const jobConfig = {
      runtime_env: job.runtimeEnv ?? {},
      metadata: { ...(job.metadata ?? {}), job_submission_id: job.submissionId, job_name: job.metadata?.job_name ?? job.submissionId },
    };
    const fd = openSync(job.logPath, "a");
    let child: ChildProcess;
    try {
      child = spawn("bash", ["-c", job.entrypoint], {
        cwd,
        detached: true, // its own process group: stop signals the whole group
        stdio: ["ignore", fd, fd],
        env: {
          ...process.env,
          ...(envVars as Record<string, string>),
          RAY_ADDRESS: options.gcsAddress,
          PYTHONUNBUFFERED: "1",
          RAY_JOB_CONFIG_JSON_ENV_VAR: JSON.stringify(jobConfig),
        },
      });
    } finally {
      closeSync(fd);
    }
    job.child = child;
    const code = await new Promise<number>((resolve) => {
      child.on("error", (error) => {
        appendLog(job, `cannot start bash: ${error.message}`);
        resolve(127);
      });
      child.on("exit", (exitCode, signal) => resolve(exitCode ?? -(constants.signals[signal as keyof typeof constants.signals] ?? 1)));
    });
    job.child = undefined;
    if (job.stopRequested) {
      setStatus(job, "STOPPED", `${prefix} job was stopped on request`);
    } else if (code === 0) {
      setStatus(job, "SUCCEEDED", `${prefix} job entrypoint finished with exit code 0`, { driverExitCode: 0 });
    } else {
      const tail = logTail(job);
      const message = tail
        ? `${prefix} job entrypoint failed with exit code ${code}; the last lines of its log (at most 20,000 characters):\n${tail}\n`
        : `${prefix} job entrypoint failed with exit code ${code}; its log is empty`;
      setStatus(job, "FAILED", message, { driverExitCode: code, errorType: "JOB_ENTRYPOINT_COMMAND_ERROR" });
    }
  }

  function stop(job: Job): boolean {
    if (terminal.has(job.status)) return false;
    job.stopRequested = true;
    const child = job.child;
    if (child?.pid) {
      let signal = process.env.RAY_JOB_STOP_SIGNAL ?? "SIGTERM";
      if (signal !== "SIGTERM" && signal !== "SIGINT") {
        say(`RAY_JOB_STOP_SIGNAL=${signal} is not SIGTERM or SIGINT; using SIGTERM`);
        signal = "SIGTERM";
      }
      const graceS = Number(process.env.RAY_JOB_STOP_WAIT_TIME_S ?? "3");
      const pid = child.pid;
      try {
        process.kill(-pid, signal as NodeJS.Signals);
      } catch {}
      const timer = setTimeout(() => {
        try {
          process.kill(-pid, "SIGKILL");
          say(`job ${job.submissionId} did not end within ${graceS} s of ${signal}; sent SIGKILL to its process group`);
        } catch {}
      }, graceS * 1000);
      child.once("exit", () => clearTimeout(timer));
    }
    return true;
  }

  function find(id: string): Job | undefined {
    return jobs.get(id);
  }

  const notFound = (id: string) => text(`${prefix} job ${id} does not exist`, 404);

  async function submit(req: Request): Promise<Response> {
    let body: unknown;
    try {
      body = JSON.parse(await req.text());
    } catch (error) {
      // aiohttp's req.json() raises outside Ray's validation: a plain 500, as Ray answers.
      return text(`${prefix} 500 Internal Server Error: the body is not JSON (${(error as Error).message}); Ray answers 500 here too`, 500);
    }
    if (!isDict(body))
      return text(`${prefix} 500 Internal Server Error: the body is JSON but not an object (got ${pyType(body)}); Ray answers 500 here too`, 500);
    const fields = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null));
    const problem = validateSubmit(fields);
    if (problem) return text(`${prefix} ${problem}`, 400);
    // Ray validates first, then looks for the head's agent to submit through.
    if (!options.agentAddress) return noAgent();
    const submissionId = (fields.submission_id ?? fields.job_id ?? generateSubmissionId()) as string;
    if (jobs.has(submissionId))
      return text(`${prefix} a job with submission_id ${submissionId} already exists; use another submission_id (Ray answers 500 here)`, 500);
    const runtimeEnv = (fields.runtime_env as Record<string, unknown> | undefined) ?? null;
    const resourcesAsked =
      [fields.entrypoint_num_cpus, fields.entrypoint_num_gpus, fields.entrypoint_memory].some((v) => Number(v) > 0) ||
      (isDict(fields.entrypoint_resources) && Object.keys(fields.entrypoint_resources).length > 0);
    const dir = join(jobsDir, submissionId.replace(/[^A-Za-z0-9_.-]/g, "_"));
    mkdirSync(dir, { recursive: true });
    const job: Job = {
      submissionId,
      entrypoint: fields.entrypoint as string,
      status: "PENDING",
      message: `${prefix} job has not started yet${resourcesAsked ? "; it may wait for the resources it asked for" : ""}${runtimeEnv && Object.keys(runtimeEnv).length ? "; its runtime env is being set up" : ""}`,
      errorType: null,
      startTime: Date.now(),
      endTime: null,
      metadata: (fields.metadata as Record<string, string> | undefined) ?? null,
      runtimeEnv,
      driverAgentHttpAddress: null,
      driverNodeId: null,
      driverExitCode: null,
      dir,
      logPath: join(dir, `job-driver-${submissionId.replace(/[^A-Za-z0-9_.-]/g, "_")}.log`),
      stopRequested: false,
    };
    rmSync(job.logPath, { force: true });
    jobs.set(submissionId, job);
    say(`job ${submissionId} submitted: ${job.entrypoint}`);
    // Ray starts the job asynchronously: the answer comes back while the job is PENDING.
    setTimeout(() => {
      run(job).catch((error) =>
        setStatus(job, "FAILED", `${prefix} unexpected error starting the job: ${(error as Error).message}`, {
          errorType: "JOB_ENTRYPOINT_COMMAND_START_ERROR",
        }),
      );
    }, 0);
    return json({ job_id: submissionId, submission_id: submissionId });
  }

  function pump(ws: ServerWebSocket<TailData>): void {
    const { job } = ws.data;
    if (existsSync(job.logPath)) {
      const size = statSync(job.logPath).size;
      if (size > ws.data.offset) {
        const fd = openSync(job.logPath, "r");
        try {
          const chunk = Buffer.alloc(size - ws.data.offset);
          readSync(fd, chunk, 0, chunk.length, ws.data.offset);
          ws.data.offset = size;
          ws.send(chunk.toString("utf8"));
        } finally {
          closeSync(fd);
        }
      }
    }
    if (terminal.has(job.status) && !job.child) {
      clearInterval(ws.data.timer);
      ws.close(1000, "job finished");
    }
  }

  const server = Bun.serve<TailData, never>({
    hostname: options.host,
    port: options.port,
    maxRequestBodySize: maxBodyBytes,
    async fetch(req, srv) {
      const url = new URL(req.url);
      const path = url.pathname;
      const denied = authError(req, path);
      if (denied) return denied;
      const method = req.method;
      const allow = (...methods: string[]) => methods.includes(method);
      const notAllowed = () => text(`${prefix} 405: Method Not Allowed`, 405);

      if (path === "/nodes" && url.searchParams.get("view") === "summary") {
        if (!allow("GET")) return notAllowed();
        const summary = (options.nodes?.() ?? []).map((n) => ({
          hostname: n.hostname,
          ip: n.ip,
          raylet: { nodeId: n.nodeId, state: n.alive ? "ALIVE" : "DEAD", isHeadNode: n.isHead },
        }));
        return json({ result: true, msg: "Node summary fetched.", data: { summary } });
      }
      if (path === "/api/version") {
        if (!allow("GET")) return notAllowed();
        return json({ version: "4", ray_version: standInVersion, ray_commit: "stand-in", session_name: options.sessionName });
      }
      let m = /^\/api\/packages\/([^/]+)\/([^/]+)$/.exec(path);
      if (m) {
        const [protocol, name] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)];
        const uri = `${protocol}://${name}`;
        if (protocol !== "gcs") return text(`${prefix} only gcs:// packages are supported (got ${uri})`, 500);
        if (method === "GET") return packages.has(uri) ? new Response(null, { status: 200 }) : text(`${prefix} package ${uri} does not exist`, 404);
        if (method === "PUT") {
          const data = new Uint8Array(await req.arrayBuffer());
          if (data.byteLength > maxBodyBytes) return text(`${prefix} 413: Request Entity Too Large`, 413);
          packages.set(uri, data);
          say(`package ${uri} uploaded (${data.byteLength} bytes)`);
          return new Response(null, { status: 200 });
        }
        return notAllowed();
      }
      if (path === "/api/jobs/") {
        if (method === "GET") return json([...jobs.values()].map(details));
        if (method === "POST") return submit(req);
        return notAllowed();
      }
      m = /^\/api\/jobs\/([^/]+)(\/logs|\/logs\/tail|\/stop)?$/.exec(path);
      if (m) {
        const id = decodeURIComponent(m[1]!);
        const tail = m[2] ?? "";
        const job = find(id);
        if (tail === "") {
          if (method === "GET") return job ? json(details(job)) : notFound(id);
          if (method === "DELETE") {
            if (!job) return notFound(id);
            if (!options.agentAddress) return noAgent();
            if (!terminal.has(job.status))
              return text(`${prefix} job ${id} is ${job.status}, not finished: only finished jobs can be deleted (Ray answers 500 here)`, 500);
            jobs.delete(id);
            rmSync(job.dir, { recursive: true, force: true });
            say(`job ${id} deleted`);
            return json({ deleted: true });
          }
          return notAllowed();
        }
        if (tail === "/stop") {
          if (!allow("POST")) return notAllowed();
          if (!job) return notFound(id);
          if (!options.agentAddress) return noAgent();
          const stopped = stop(job);
          if (stopped) say(`job ${id}: stop requested`);
          return json({ stopped });
        }
        if (tail === "/logs") {
          if (!allow("GET")) return notAllowed();
          if (!job) return notFound(id);
          if (!job.driverAgentHttpAddress) return json({ logs: "" });
          return json({ logs: existsSync(job.logPath) ? readFileSync(job.logPath, "utf8") : "" });
        }
        // /logs/tail: a websocket that streams the log until the job ends.
        if (!allow("GET")) return notAllowed();
        if (!job) return notFound(id);
        if (srv.upgrade(req, { data: { job, offset: 0 } })) return undefined;
        return text(`${prefix} /logs/tail is a websocket endpoint`, 400);
      }
      return text(`${prefix} 404: Not Found`, 404);
    },
    websocket: {
      open(ws) {
        ws.data.timer = setInterval(() => pump(ws), 200);
        pump(ws);
      },
      message() {},
      close(ws) {
        clearInterval(ws.data.timer);
      },
    },
  });
  say(`dashboard (Jobs API stand-in, like Ray ${imitatedRay}) on ${options.host}:${server.port}${options.auth.enabled ? ", token auth on" : ""}`);

  return {
    server,
    killJobs() {
      for (const job of jobs.values()) {
        if (job.child?.pid) {
          try {
            process.kill(-job.child.pid, "SIGKILL");
          } catch {}
        }
      }
    },
  };
}
