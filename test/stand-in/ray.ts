#!/usr/bin/env bun
/**
 * A STAND-IN for the `ray` CLI (Ray 2.60), for tests on machines where Ray cannot run. It is
 * not Ray: every line it prints contains `[ray stand-in]` and `ray --version` says so. It
 * imitates what cslr relies on, and above all it FAILS WHERE REAL RAY FAILS ACROSS HOSTS:
 * a node IP that is not on the host, a head that cannot dial back to a worker's advertised
 * address, a head that is gone, a head with another cluster id, a port in use, a bad token.
 *
 * Commands
 *   ray --version                      `[ray stand-in] ray, version 2.60.0+standin (stand-in, not Ray)`
 *   ray start --head --block [flags]   the head: GCS port, dashboard with the Jobs API, client port
 *   ray start --address=H:P --block    a worker of the head at H:P
 *   ray stop [-f|--force] [-g|--grace-period S]
 *                                      SIGTERM to this node's `ray start` processes (pid files in
 *                                      $RAY_STANDIN_DIR), waits S seconds (default 5; Ray: 16), SIGKILL
 *   ray status [--address H:P]         the head's view (this node's own head without --address),
 *                                      printed as `[ray stand-in] cluster <id> at <H:P>: <n> alive node(s)`
 *                                      then one `[ray stand-in] NODE ...` line per alive node and one
 *                                      `[ray stand-in] DEAD ...` line per recently dead one (formats
 *                                      below); exit 1 when the head cannot be reached
 * Without --block, `ray start` exits 2 (the stand-in cannot daemonize). Options are checked like
 * Ray's click parser: an unknown option, a missing value or a non-integer where Ray wants an int
 * (--num-cpus=1.5) exits 2; Ray's own checks (worker port range, client port 1024–65535, runtime
 * env agent port, --resources JSON and its reserved keys) exit 1. Every `ray start` option of Ray
 * 2.60 is accepted; these are honoured:
 *   --port (6379)  --node-ip-address  --node-name  --address  --head  --block
 *   --node-manager-port (0 = any)  --object-manager-port (0)  --runtime-env-agent-port (0)
 *   --dashboard-agent-grpc-port (0)  --dashboard-agent-listen-port (52365)  --metrics-export-port (0)
 *   --ray-client-server-port (10001, head)  --dashboard-host (127.0.0.1)  --dashboard-port (8265)
 *   --include-dashboard  --num-cpus  --num-gpus  --memory  --object-store-memory  --resources (JSON)
 *   --min-worker-port / --max-worker-port (checked, not opened)  --disable-usage-stats (no-op)
 *
 * Node IP (what a node advertises): --node-ip-address, else the source address of this host's
 * route to the head (worker) or to 8.8.8.8 (head), found with a connected UDP socket as Ray does,
 * else 127.0.0.1. Inside a bridge container that is the container's own address.
 *
 * Listeners, as real Ray 2.60 binds them (checked with `ss -ltnp` on a real 2.60 node):
 *   GCS (--port, head)                 0.0.0.0  fatal if it cannot bind
 *   node manager, object manager       0.0.0.0  fatal (the raylet)
 *   runtime env agent                  NODE IP  fatal: Ray's raylet fate-shares with its agents
 *   dashboard agent gRPC, metrics      0.0.0.0  fatal
 *   dashboard agent HTTP (52365)       NODE IP and 127.0.0.1, not fatal (Ray keeps the agent
 *                                      without HTTP); then the Jobs API answers 500, as Ray's does
 *   Ray client server (head)           NODE IP and 127.0.0.1, fatal (`ray start --block` stops)
 *   dashboard (head)                   --dashboard-host; not fatal unless --include-dashboard=true
 * So --node-ip-address naming an address this host does not have (a Docker host's LAN address
 * inside a bridge container) fails with EADDRNOTAVAIL and exit 1, like Ray ≥ 2.50 (Ray gives up
 * after its ~30 s startup timeout; the stand-in at once). A port in use fails with a line naming
 * it (at once; Ray after its startup timeout where the raylet is the one that cannot bind).
 * RAY_STANDIN_SHARED_NETNS=1 is for several stand-in nodes sharing one network namespace (the
 * election harness, 127.0.1.x per node): what Ray binds to 0.0.0.0 or 127.0.0.1 is bound to the
 * node IP instead, so the nodes do not take each other's ports.
 *
 * Cluster membership (wire protocol on the GCS port: one line per message, JSON after the verb)
 *   worker → head  REGISTER {"node","nodeId","address","nodeManagerPort","clusterId","auth","resources","hostname"}
 *   head → worker  OK {"clusterId","head"} | ERR <auth-missing|auth-invalid|cluster-id|dead> {...}
 *   worker → head  PING every 500 ms → PONG;  UNREGISTER (on SIGTERM) → BYE
 *   head → worker  DEAD {"reason"} when its health checks declared the node dead
 *   anyone → head  STATUS → the lines below, END, close (no auth: tests probe it)
 *     CLUSTER <cluster-id> head=<name> gcs=<ip>:<port> auth=<on|off>
 *     NODE <name> <head|worker> <ip>:<node-manager-port> id=<node-id> cpus=<n> gpus=<n> state=ALIVE
 *          [health_checks_ok=<n>]   (workers: dial-backs that succeeded so far)
 *     DEAD <name> <role> <ip>:<node-manager-port> id=<node-id> at=<epoch ms> reason="<text>"
 *   head → node    on the node manager port: HEALTH <node-id> → OK <node-id>
 * The head gives itself a random cluster id ($RAY_STANDIN_CLUSTER_ID pins it, like a GCS with
 * external storage keeps it across restarts). It health-checks every registered node by
 * DIALLING BACK its advertised ip:node-manager-port, like Ray's GCS: first check after
 * RAY_health_check_initial_delay_ms, then every RAY_health_check_period_ms, each with
 * RAY_health_check_timeout_ms; RAY_health_check_failure_threshold failures in a row = dead.
 * Stand-in defaults 1000 / 1000 / 1000 / 3 (Ray: 5000 / 3000 / 10000 / 5), so a node the head
 * cannot reach is dead about 3 s (refused/unroutable) to 6 s (timeouts) after it registered, or
 * after it became unreachable. The settings are read by the head only (Ray: by the GCS). Each failure logs
 * `GCS health check failed for node <name> at <ip>:<port>: <why> (<n> check(s) left)`; the dead
 * node is dropped and told (DEAD); the worker prints why and exits 1, as Ray's raylet does.
 * A worker whose head is gone (closed connection, or no answer for 2.5 s) retries and exits 1
 * after RAY_gcs_rpc_server_reconnect_timeout_s (default 60, as Ray) without a head; a head that
 * answers again in time (same cluster id) keeps it; a head with another cluster id makes it exit
 * 1 at once. A first connection is retried for RAY_STANDIN_CONNECT_TIMEOUT_MS (10000), then exit 1.
 *
 * Token auth (Ray 2.60): RAY_AUTH_MODE=token, token from RAY_AUTH_TOKEN, the file
 * RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token; no token → `ray start` exits 1. A head with
 * RAY_AUTH_MODE unset but a token available turns auth on, as Ray's `ray start --head` does.
 * Workers send sha256(token) in REGISTER; a missing or different token is refused and the worker
 * exits 1. The dashboard wants `Authorization: Bearer <token>` (also `X-Ray-Authorization`, or
 * the cookie `ray-authentication-token`): none → 401, wrong → 403, as Ray's middleware.
 *
 * Jobs API on the dashboard port (jobs.ts): GET /api/version, GET|PUT /api/packages/gcs/<name>,
 * GET /nodes?view=summary (the head, its live workers and the recently dead, as Ray's node list),
 * POST|GET /api/jobs/, GET|DELETE /api/jobs/<id>, GET /api/jobs/<id>/logs, websocket
 * /api/jobs/<id>/logs/tail, POST /api/jobs/<id>/stop. A job unzips its gcs:// working_dir into
 * a fresh folder, runs `bash -c <entrypoint>` there (no working_dir: the head's cwd) with its
 * env_vars, RAY_ADDRESS and RAY_JOB_CONFIG_JSON_ENV_VAR, in its own process group, stdout+stderr
 * unchanged into its log. PENDING → RUNNING → SUCCEEDED | FAILED (exit code in the message) |
 * STOPPED (RAY_JOB_STOP_SIGNAL, default SIGTERM, then SIGKILL after RAY_JOB_STOP_WAIT_TIME_S = 3).
 * Answers as Ray's: 400 for a body JobSubmitRequest rejects (wrong type, unknown or missing
 * field; null fields are dropped first), 404 unknown id, 405 wrong method, 500 for a body that is
 * not a JSON object, a duplicate submission_id or deleting an unfinished job; runtime env problems
 * (missing package, bad zip, non-string env var) FAIL the job instead. Bodies of answers the
 * stand-in writes say `[ray stand-in]`.
 *
 * Other environment: CSLR_NODE_NAME (node name; default the hostname; --node-name wins),
 * RAY_STANDIN_DIR (per-node state: pid files, head.json; default /tmp/ray-standin-<node name>),
 * RAY_STANDIN_HEAD_DELAY_MS (the head opens its ports after this delay; default 0).
 *
 * Log lines the benchmarks parse: `head <name> listening on <host>:<port> (GCS stand-in) at <ms>`
 * and `node <name> registered (<n> worker(s)) at <ms>`; `auth: RAY_AUTH_MODE=token, RAY_AUTH_TOKEN
 * set (<n> chars)` tells tests the token arrived without printing it.
 *
 * Self-contained on purpose (no imports from the repo's src/): it is compiled with
 * `bun build --compile` into a binary baked into test images as /usr/local/bin/ray.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { cpus, hostname, totalmem } from "node:os";
import { join } from "node:path";
import type { Socket, TCPSocketListener } from "bun";
import {
  type Auth,
  connectLines,
  envInt,
  exit,
  fail,
  imitatedRay,
  type LineConnection,
  onExit,
  prefix,
  randomHex,
  reason,
  resolveAuth,
  say,
  sha256,
  sourceAddressTowards,
  splitHostPort,
  standInVersion,
  warn,
} from "./common.ts";
import { startDashboard } from "./jobs.ts";

// ---------------------------------------------------------------- options, like Ray's click CLI

type Kind = "int" | "float" | "text" | "flag" | "bool" | "json" | "count" | `choice:${string}`;

/** Every option of Ray 2.60's `ray start`, with the type click gives it. */
const startOptions: Record<string, Kind> = {
  "node-ip-address": "text",
  address: "text",
  port: "int",
  "node-name": "text",
  "redis-username": "text",
  "redis-password": "text",
  "redis-shard-ports": "text",
  "object-manager-port": "int",
  "node-manager-port": "int",
  "min-worker-port": "int",
  "max-worker-port": "int",
  "worker-port-list": "text",
  "ray-client-server-port": "int",
  memory: "int",
  "object-store-memory": "int",
  "num-cpus": "int",
  "num-gpus": "int",
  resources: "text",
  head: "flag",
  "include-dashboard": "bool",
  "dashboard-host": "text",
  "dashboard-port": "int",
  "dashboard-agent-listen-port": "int",
  "dashboard-agent-grpc-port": "int",
  "runtime-env-agent-port": "int",
  block: "flag",
  "plasma-directory": "text",
  "object-spilling-directory": "text",
  "autoscaling-config": "text",
  "no-redirect-output": "flag",
  "temp-dir": "text",
  "system-config": "json",
  "enable-object-reconstruction": "flag",
  "metrics-export-port": "int",
  "no-monitor": "flag",
  "tracing-startup-hook": "text",
  "ray-debugger-external": "flag",
  "disable-usage-stats": "flag",
  labels: "text",
  "labels-file": "text",
  "include-log-monitor": "bool",
  "enable-resource-isolation": "flag",
  "system-reserved-cpu": "float",
  "system-reserved-memory": "int",
  "cgroup-path": "text",
  "proxy-server-url": "text",
  "log-style": "choice:auto,record,pretty",
  "log-color": "choice:auto,false,true",
  verbose: "count",
};
const stopOptions: Record<string, Kind> = {
  force: "flag",
  "grace-period": "int",
  "log-style": "choice:auto,record,pretty",
  "log-color": "choice:auto,false,true",
  verbose: "count",
};
const statusOptions: Record<string, Kind> = { address: "text", verbose: "flag" };
const shortOptions: Record<string, string> = { "-v": "verbose", "-f": "force", "-g": "grace-period" };

const trueWords = ["1", "true", "t", "yes", "y", "on"];
const falseWords = ["0", "false", "f", "no", "n", "off"];

function parseOptions(command: string, argv: string[], spec: Record<string, Kind>): Map<string, string> {
  const flags = new Map<string, string>();
  function usage(message: string): never {
    fail(`ray ${command}: ${message} (Ray's CLI exits 2 the same way)`, 2);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    } else if (shortOptions[arg] && spec[shortOptions[arg]!]) {
      name = shortOptions[arg]!;
    } else {
      usage(`unexpected argument ${JSON.stringify(arg)}`);
    }
    const kind = spec[name];
    if (!kind) usage(`no such option --${name}`);
    if (kind === "flag" || kind === "count") {
      if (inline !== undefined) usage(`option --${name} does not take a value`);
      flags.set(name, kind === "count" ? String(Number(flags.get(name) ?? "0") + 1) : "true");
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) usage(`option --${name} requires an argument`);
    function bad(what: string): never {
      usage(`invalid value for --${name}: ${JSON.stringify(value)} is not ${what}`);
    }
    if (kind === "int" && !/^\s*[+-]?\d+\s*$/.test(value)) bad("a valid integer");
    if (kind === "float" && !Number.isFinite(Number(value))) bad("a valid float");
    if (kind === "bool" && ![...trueWords, ...falseWords].includes(value.toLowerCase())) bad("a valid boolean");
    if (kind === "json") {
      try {
        JSON.parse(value);
      } catch {
        bad("valid JSON");
      }
    }
    if (kind.startsWith("choice:") && !kind.slice(7).split(",").includes(value)) bad(`one of ${kind.slice(7)}`);
    flags.set(name, kind === "int" ? String(Number(value.trim())) : value);
  }
  return flags;
}

const intFlag = (flags: Map<string, string>, name: string): number | undefined => (flags.has(name) ? Number(flags.get(name)) : undefined);
const boolFlag = (flags: Map<string, string>, name: string): boolean | undefined =>
  flags.has(name) ? trueWords.includes(flags.get(name)!.toLowerCase()) : undefined;

/**
 * RayParams._check_usage: every pre-selected port belongs to one component, in Ray's order,
 * the worker range last (`ray start` passes 10002–19999 unless told otherwise), so a head whose
 * client port is 10002 fails with "Ray component worker_ports is trying to use a port number
 * 10002 that is used by other components". A head's GCS, client and dashboard ports default to
 * 6379, 10001 and 8265; the dashboard agent listens on 52365 unless told otherwise.
 */
function checkPortOwners(flags: Map<string, string>, isHead: boolean, bad: (message: string) => never): void {
  const given = (name: string, fallback?: number): number[] => {
    const value = intFlag(flags, name) ?? fallback;
    return value === undefined || value === 0 ? [] : [value];
  };
  const min = intFlag(flags, "min-worker-port") ?? 10002;
  const max = intFlag(flags, "max-worker-port") ?? 19999;
  const owners: [string, number[]][] = [
    ["gcs", isHead ? given("port", 6379) : []],
    ["object_manager", given("object-manager-port")],
    ["node_manager", given("node-manager-port")],
    ["client_server", isHead ? given("ray-client-server-port", 10001) : []],
    ["dashboard", isHead ? given("dashboard-port", 8265) : []],
    ["dashboard_agent_grpc", given("dashboard-agent-grpc-port")],
    ["dashboard_agent_http", given("dashboard-agent-listen-port", 52365)],
    ["runtime_env_agent", given("runtime-env-agent-port")],
    ["metrics_export", given("metrics-export-port")],
    ["worker_ports", min > 0 && max >= min ? Array.from({ length: max - min + 1 }, (_, i) => min + i) : []],
  ];
  const taken = new Set<number>();
  for (const [component, ports] of owners) {
    for (const port of ports) {
      if (taken.has(port)) bad(`Ray component ${component} is trying to use a port number ${port} that is used by other components`);
      taken.add(port);
    }
  }
}

/** RayParams' own checks (Ray raises ValueError/AssertionError there: `ray start` exits 1). */
function checkRayParams(flags: Map<string, string>, isHead: boolean): Record<string, number> {
  function bad(message: string): never {
    fail(`${message} (Ray rejects this too)`, 1);
  }
  const min = intFlag(flags, "min-worker-port");
  const max = intFlag(flags, "max-worker-port");
  if (min !== undefined && min !== 0 && (min < 1024 || min > 65535)) bad(`--min-worker-port=${min}: must be 0 or between 1024 and 65535`);
  if (max !== undefined && max !== 0) {
    if (max < 1024 || max > 65535) bad(`--max-worker-port=${max}: must be 0 or between 1024 and 65535`);
    if (max <= (min ?? 10002)) bad(`--max-worker-port=${max} must be higher than --min-worker-port=${min ?? 10002}`);
  }
  const client = intFlag(flags, "ray-client-server-port");
  if (isHead && client !== undefined && (client < 1024 || client > 65535)) bad(`--ray-client-server-port=${client}: must be between 1024 and 65535`);
  const agent = intFlag(flags, "runtime-env-agent-port");
  if (agent !== undefined && agent !== 0 && (agent < 1024 || agent > 65535)) bad(`--runtime-env-agent-port=${agent}: must be 0 or between 1024 and 65535`);
  for (const name of [
    "port",
    "node-manager-port",
    "object-manager-port",
    "dashboard-port",
    "dashboard-agent-listen-port",
    "dashboard-agent-grpc-port",
    "metrics-export-port",
  ]) {
    const port = intFlag(flags, name);
    if (port !== undefined && (port < 0 || port > 65535)) bad(`--${name}=${port}: not a TCP port`);
  }
  checkPortOwners(flags, isHead, bad);
  let custom: Record<string, unknown> = {};
  const raw = flags.get("resources") ?? "{}";
  try {
    custom = JSON.parse(raw);
  } catch (error) {
    bad(`--resources=${raw} is not valid JSON (${(error as Error).message}); expected like '{"CustomResource": 2}'`);
  }
  if (typeof custom !== "object" || custom === null || Array.isArray(custom)) bad(`--resources=${raw}: expected a JSON object of name → number`);
  const resources: Record<string, number> = {};
  for (const [key, value] of Object.entries(custom)) {
    const alternative = { CPU: "--num-cpus", GPU: "--num-gpus", memory: "--memory", object_store_memory: "--object-store-memory" }[key];
    if (alternative) bad(`--resources: '${key}' is a default resource, use ${alternative} instead`);
    if (typeof value !== "number") bad(`--resources: '${key}' must be a number, got ${JSON.stringify(value)}`);
    resources[key] = value as number;
  }
  return {
    CPU: intFlag(flags, "num-cpus") ?? cpus().length,
    GPU: intFlag(flags, "num-gpus") ?? 0,
    memory: intFlag(flags, "memory") ?? Math.floor(totalmem() * 0.7),
    object_store_memory: intFlag(flags, "object-store-memory") ?? Math.floor(totalmem() * 0.3),
    ...resources,
  };
}

// ---------------------------------------------------------------- node identity and state

const command = process.argv[2];
const nodeNameFrom = (flags?: Map<string, string>) => flags?.get("node-name") || process.env.CSLR_NODE_NAME || hostname();
let nodeName = nodeNameFrom();
let stateDir = process.env.RAY_STANDIN_DIR || `/tmp/ray-standin-${nodeName}`;
const sharedNetns = process.env.RAY_STANDIN_SHARED_NETNS === "1";

function writePidFile(role: string): void {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, `${role}.${process.pid}.pid`);
  writeFileSync(file, String(process.pid));
  onExit(() => rmSync(file, { force: true }));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether `pid` runs this same program (the stand-in), as `ray stop` finds Ray's processes by name. */
function sameProgram(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/exe`) === readlinkSync("/proc/self/exe");
  } catch {
    return false;
  }
}

function sayAuth(auth: Auth): void {
  if (process.env.RAY_AUTH_MODE === "token") {
    say(`auth: RAY_AUTH_MODE=token, RAY_AUTH_TOKEN ${process.env.RAY_AUTH_TOKEN ? `set (${process.env.RAY_AUTH_TOKEN.length} chars)` : "not set"}`);
  }
  if (auth.enabled) say(`token auth on (token from ${auth.source})`);
}

interface NodeIp {
  ip: string;
  how: string;
}

async function nodeIp(flags: Map<string, string>, towards?: string): Promise<NodeIp> {
  const given = flags.get("node-ip-address");
  if (given) return { ip: given, how: "--node-ip-address" };
  const target = towards ?? "8.8.8.8";
  const ip = await sourceAddressTowards(target);
  if (ip === "127.0.0.1" && !/^127\.|^localhost$/.test(target)) return { ip, how: `no route to ${target}: fell back to 127.0.0.1` };
  return { ip, how: towards ? `source address of this host's route to the head ${towards}` : "source address of the default route" };
}

// ---------------------------------------------------------------- listeners

const anyAddress = (ip: string) => (sharedNetns ? ip : "0.0.0.0");
const isLoopbackName = (ip: string) => ip === "127.0.0.1" || ip === "localhost" || ip === "::1";

interface Bound {
  port: number;
  stop(): void;
}

class BindError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A TCP listener that accepts and idles (keeps connections open, as a gRPC server waits for the client). */
function listenIdle(host: string, port: number): Bound {
  return listenTcp(host, port, () => {});
}

function listenTcp(host: string, port: number, onLine: (socket: Socket<Conn>, line: string) => void, onClose?: (socket: Socket<Conn>) => void): Bound {
  try {
    const listener: TCPSocketListener<Conn> = Bun.listen<Conn>({
      hostname: host,
      port,
      socket: {
        open(socket) {
          socket.data = { buffer: "" };
        },
        data(socket, chunk) {
          socket.data.buffer += chunk.toString();
          let nl: number;
          while ((nl = socket.data.buffer.indexOf("\n")) >= 0) {
            const line = socket.data.buffer.slice(0, nl).replace(/\r$/, "");
            socket.data.buffer = socket.data.buffer.slice(nl + 1);
            onLine(socket, line);
          }
        },
        close(socket) {
          onClose?.(socket);
        },
        error() {},
      },
    });
    return { port: listener.port, stop: () => listener.stop(true) };
  } catch (error) {
    const code = (error as { code?: string }).code ?? "EUNKNOWN";
    throw new BindError(code, (error as Error).message);
  }
}

function bindProblem(what: string, host: string, port: number, error: unknown): string {
  const code = (error as BindError).code;
  if (code === "EADDRINUSE") return `${what} cannot listen on ${host}:${port}: port ${port} is already in use (EADDRINUSE)`;
  if (code === "EADDRNOTAVAIL") return `${what} cannot listen on ${host}:${port}: ${host} is not an address of this host (EADDRNOTAVAIL)`;
  return `${what} cannot listen on ${host}:${port}: ${(error as Error).message} (${code})`;
}

/** Binds like Ray binds it; on failure says what Ray does next and exits 1 (fatal) or returns undefined. */
function bind(what: string, host: string, port: number, fatal: string | undefined, make: () => Bound, nodeIpHint = false): Bound | undefined {
  try {
    const bound = make();
    onExit(() => bound.stop());
    return bound;
  } catch (error) {
    let message = bindProblem(what, host, port, error);
    if ((error as BindError).code === "EADDRNOTAVAIL" && nodeIpHint) {
      message +=
        ". Ray >= 2.50 binds its agents to the node IP, so --node-ip-address must be an address this host has: inside a Docker bridge container that is the container's own address, not the Docker host's LAN address";
    }
    if (fatal) fail(`${message}; ${fatal}`, 1);
    warn(`${message}; ${"continuing without it, as Ray does"}`);
    return undefined;
  }
}

interface NodeListeners {
  nodeManagerPort: number;
  agentHttp: string | undefined;
}

/** The raylet's and its agents' listeners, in Ray's start order; the node manager answers health checks. */
function openNodeListeners(flags: Map<string, string>, ip: string, nodeId: string): NodeListeners {
  const all = anyAddress(ip);
  const raylet = "the raylet cannot start, so `ray start` fails";
  const agentDies = "Ray's raylet fate-shares with its agents and exits, so `ray start` fails";
  const nmPort = intFlag(flags, "node-manager-port") ?? 0;
  const nodeManager = bind("node manager (raylet)", all, nmPort, raylet, () =>
    listenTcp(all, nmPort, (socket, line) => {
      if (line.startsWith("HEALTH")) {
        socket.write(`OK ${nodeId}\n`);
        socket.end();
      }
    }),
  )!;
  const omPort = intFlag(flags, "object-manager-port") ?? 0;
  bind("object manager (raylet)", all, omPort, raylet, () => listenIdle(all, omPort));
  const renvPort = intFlag(flags, "runtime-env-agent-port") ?? 0;
  bind("runtime env agent", ip, renvPort, agentDies, () => listenIdle(ip, renvPort), true);
  const grpcPort = intFlag(flags, "dashboard-agent-grpc-port") ?? 0;
  bind("dashboard agent gRPC server", all, grpcPort, agentDies, () => listenIdle(all, grpcPort));
  const metricsPort = intFlag(flags, "metrics-export-port") ?? 0;
  bind("metrics export (dashboard agent)", all, metricsPort, agentDies, () => listenIdle(all, metricsPort));
  const agentPort = intFlag(flags, "dashboard-agent-listen-port") ?? 52365;
  const agentHosts = sharedNetns || isLoopbackName(ip) ? [ip] : [ip, "127.0.0.1"];
  let agentHttp: string | undefined;
  const servers: ReturnType<typeof Bun.serve>[] = [];
  const agent = bind(
    "dashboard agent HTTP server",
    agentHosts.join(" and "),
    agentPort,
    undefined,
    () => {
      try {
        let port = agentPort;
        for (const host of agentHosts) {
          const server = Bun.serve({ hostname: host, port, fetch: () => new Response(`${prefix} dashboard agent: nothing to see here`, { status: 404 }) });
          servers.push(server);
          port = server.port ?? port;
        }
        return { port, stop: () => servers.forEach((s) => s.stop(true)) };
      } catch (error) {
        servers.forEach((s) => s.stop(true));
        throw new BindError((error as { code?: string }).code ?? "EUNKNOWN", (error as Error).message);
      }
    },
    true,
  );
  if (agent) agentHttp = `http://${ip}:${agent.port}`;
  else warn("the dashboard agent keeps running without its HTTP server (Ray logs the same); jobs cannot be submitted through this node");
  return { nodeManagerPort: nodeManager.port, agentHttp };
}

// ---------------------------------------------------------------- head

interface Member {
  name: string;
  nodeId: string;
  role: "worker";
  address: string;
  /** The worker's hostname (its REGISTER says it), for the dashboard's node list. */
  hostname: string;
  nodeManagerPort: number;
  resources: Record<string, number>;
  socket?: Socket<Conn>;
  failures: number;
  /** Successful dial-backs so far (shown by `ray status`). */
  checksOk: number;
  timer?: ReturnType<typeof setTimeout>;
}

interface Conn {
  buffer: string;
  nodeId?: string;
}

interface DeadNode {
  name: string;
  nodeId: string;
  address: string;
  at: number;
  reason: string;
}

async function startHead(flags: Map<string, string>): Promise<void> {
  const resources = checkRayParams(flags, true);
  const auth = resolveAuth(true);
  const { ip, how } = await nodeIp(flags);
  const port = intFlag(flags, "port") ?? 6379;
  const gcsHost = anyAddress(ip);
  const delayMs = envInt("RAY_STANDIN_HEAD_DELAY_MS", 0);
  const clusterId = process.env.RAY_STANDIN_CLUSTER_ID || randomHex(28);
  const nodeId = randomHex(28);
  const health = {
    initialDelayMs: envInt("RAY_health_check_initial_delay_ms", 1000),
    periodMs: envInt("RAY_health_check_period_ms", 1000),
    timeoutMs: envInt("RAY_health_check_timeout_ms", 1000),
    threshold: Math.max(1, envInt("RAY_health_check_failure_threshold", 3)),
  };
  writePidFile("head");
  say(`starting head ${nodeName} (this is a stand-in, not Ray ${imitatedRay}); port ${gcsHost}:${port} opens in ${delayMs} ms`);
  say(`node IP ${ip} (${how})`);
  sayAuth(auth);
  say(`flags: ${[...flags].map(([k, v]) => (v === "true" ? `--${k}` : `--${k}=${v}`)).join(" ")}`);

  const members = new Map<string, Member>();
  const dead = new Map<string, DeadNode>();
  let killJobs = () => {};
  const stop = (signal: string) => {
    say(`head ${nodeName} stopping on ${signal} at ${Date.now()}`);
    killJobs();
    rmSync(join(stateDir, "head.json"), { force: true });
    exit(0);
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  if (delayMs > 0) await Bun.sleep(delayMs);

  const workers = () => members.size;
  const nodeLine = (m: {
    name: string;
    role: string;
    address: string;
    nodeManagerPort: number;
    nodeId: string;
    resources: Record<string, number>;
    checksOk?: number;
  }) =>
    `NODE ${m.name} ${m.role} ${m.address}:${m.nodeManagerPort} id=${m.nodeId} cpus=${m.resources.CPU ?? 0} gpus=${m.resources.GPU ?? 0} state=ALIVE` +
    (m.checksOk === undefined ? "" : ` health_checks_ok=${m.checksOk}`);

  function markDead(member: Member, why: string): void {
    members.delete(member.nodeId);
    clearTimeout(member.timer);
    const record = {
      name: member.name,
      nodeId: member.nodeId,
      address: `${member.address}:${member.nodeManagerPort}`,
      at: Date.now(),
      reason: `GCS health check failed ${health.threshold} time(s) in a row (last: ${why})`,
    };
    dead.set(member.nodeId, record);
    if (dead.size > 50) dead.delete(dead.keys().next().value!);
    say(`node ${member.name} at ${record.address} marked dead: ${record.reason}; dropped from the cluster (${workers()} worker(s))`);
    if (member.socket) {
      member.socket.write(`DEAD ${JSON.stringify({ reason: record.reason, address: record.address })}\n`);
      member.socket.end();
    }
  }

  /** One dial-back: connect to the advertised address and node manager port, ask, await OK. */
  async function probe(member: Member): Promise<string | undefined> {
    const started = Date.now();
    let conn: LineConnection | undefined;
    try {
      conn = await connectLines(member.address, member.nodeManagerPort, health.timeoutMs);
      conn.send(`HEALTH ${member.nodeId}`);
      const answer = await conn.next(Math.max(1, health.timeoutMs - (Date.now() - started)));
      if (answer === undefined) return `no answer within ${health.timeoutMs} ms (RAY_health_check_timeout_ms)`;
      return answer.startsWith("OK") ? undefined : `unexpected answer ${JSON.stringify(answer)}`;
    } catch (error) {
      return reason(error);
    } finally {
      conn?.close();
    }
  }

  function scheduleCheck(member: Member, delay: number): void {
    member.timer = setTimeout(async () => {
      if (members.get(member.nodeId) !== member) return;
      const problem = await probe(member);
      if (members.get(member.nodeId) !== member) return;
      if (problem === undefined) {
        member.failures = 0;
        member.checksOk++;
      } else {
        member.failures++;
        const left = health.threshold - member.failures;
        say(`GCS health check failed for node ${member.name} at ${member.address}:${member.nodeManagerPort}: ${problem} (${left} check(s) left)`);
        if (left <= 0) return markDead(member, problem);
      }
      scheduleCheck(member, health.periodMs);
    }, delay);
  }

  function reply(socket: Socket<Conn>, line: string, close = false): void {
    socket.write(`${line}\n`);
    if (close) socket.end();
  }

  function register(socket: Socket<Conn>, payload: string): void {
    let msg: {
      node?: string;
      nodeId?: string;
      address?: string;
      nodeManagerPort?: number;
      clusterId?: string | null;
      auth?: string | null;
      resources?: Record<string, number>;
      hostname?: string;
    };
    try {
      msg = JSON.parse(payload);
    } catch {
      return reply(socket, `ERR bad-request ${JSON.stringify({ message: "REGISTER wants a JSON object" })}`, true);
    }
    const { node = "?", nodeId, address, nodeManagerPort } = msg;
    if (!nodeId || !address || !nodeManagerPort)
      return reply(socket, `ERR bad-request ${JSON.stringify({ message: "REGISTER needs nodeId, address, nodeManagerPort" })}`, true);
    if (auth.enabled) {
      if (!msg.auth) {
        say(`node ${node} (${address}) refused: token auth is on and it sent no token`);
        return reply(
          socket,
          `ERR auth-missing ${JSON.stringify({ message: "this cluster has token auth on (RAY_AUTH_MODE=token); the node sent no token" })}`,
          true,
        );
      }
      if (msg.auth !== sha256(auth.token!)) {
        say(`node ${node} (${address}) refused: its token is not this cluster's`);
        return reply(socket, `ERR auth-invalid ${JSON.stringify({ message: "the node's token is not this cluster's token" })}`, true);
      }
    }
    if (msg.clusterId && msg.clusterId !== clusterId) {
      say(
        `node ${node} (${address}) refused: it belongs to cluster ${msg.clusterId}, this head is cluster ${clusterId} (a worker of an earlier head cannot join a new one)`,
      );
      return reply(socket, `ERR cluster-id ${JSON.stringify({ expected: clusterId, got: msg.clusterId })}`, true);
    }
    const gone = dead.get(nodeId);
    if (gone) return reply(socket, `ERR dead ${JSON.stringify({ reason: gone.reason, address: gone.address })}`, true);
    socket.data.nodeId = nodeId;
    const existing = members.get(nodeId);
    if (existing) {
      if (existing.socket && existing.socket !== socket) existing.socket.end();
      existing.socket = socket;
      say(`node ${node} reconnected (${workers()} worker(s)) at ${Date.now()}`);
    } else {
      const member: Member = {
        name: node,
        nodeId,
        role: "worker",
        address,
        hostname: msg.hostname ?? "",
        nodeManagerPort,
        resources: msg.resources ?? {},
        socket,
        failures: 0,
        checksOk: 0,
      };
      members.set(nodeId, member);
      say(`node ${node} registered (${workers()} worker(s)) at ${Date.now()}`);
      say(`node ${node} advertises ${address}:${nodeManagerPort}; the head dials it back for health checks`);
      scheduleCheck(member, health.initialDelayMs);
    }
    reply(socket, `OK ${JSON.stringify({ clusterId, head: nodeName })}`);
  }

  function status(socket: Socket<Conn>): void {
    const lines = [
      `CLUSTER ${clusterId} head=${nodeName} gcs=${ip}:${port} auth=${auth.enabled ? "on" : "off"}`,
      nodeLine({ name: nodeName, role: "head", address: ip, nodeManagerPort: listeners.nodeManagerPort, nodeId, resources }),
      ...[...members.values()].map(nodeLine),
      ...[...dead.values()].map((d) => `DEAD ${d.name} worker ${d.address} id=${d.nodeId} at=${d.at} reason=${JSON.stringify(d.reason)}`),
    ];
    socket.end(`${lines.join("\n")}\nEND\n`);
  }

  bind("GCS server", gcsHost, port, "the head cannot start (Ray's GCS server exits the same way)", () =>
    listenTcp(
      gcsHost,
      port,
      (socket, line) => {
        const space = line.indexOf(" ");
        const verb = space < 0 ? line : line.slice(0, space);
        const rest = space < 0 ? "" : line.slice(space + 1);
        const member = socket.data.nodeId ? members.get(socket.data.nodeId) : undefined;
        switch (verb) {
          case "STATUS":
            return status(socket);
          case "REGISTER":
            return register(socket, rest);
          case "PING":
            if (member && member.socket === socket) return reply(socket, "PONG");
            if (socket.data.nodeId && dead.has(socket.data.nodeId))
              return reply(socket, `DEAD ${JSON.stringify({ reason: dead.get(socket.data.nodeId)!.reason })}`, true);
            return reply(socket, `ERR unregistered ${JSON.stringify({ message: "PING before REGISTER" })}`, true);
          case "UNREGISTER":
            if (member) {
              members.delete(member.nodeId);
              clearTimeout(member.timer);
              say(`node ${member.name} left (unregistered; ${workers()} worker(s))`);
            }
            return reply(socket, "BYE", true);
          default:
            return reply(socket, `ERR bad-request ${JSON.stringify({ message: `unknown verb ${verb}` })}`, true);
        }
      },
      (socket) => {
        const member = socket.data.nodeId ? members.get(socket.data.nodeId) : undefined;
        if (member && member.socket === socket) {
          member.socket = undefined;
          say(`connection from node ${member.name} closed; it stays until it reconnects, unregisters or fails its health checks`);
        }
      },
    ),
  );
  const listeners = openNodeListeners(flags, ip, nodeId);

  const clientPort = intFlag(flags, "ray-client-server-port") ?? 10001;
  const clientHosts = sharedNetns || isLoopbackName(ip) ? [ip] : [ip, "127.0.0.1"];
  for (const host of clientHosts) {
    bind("Ray client server", host, clientPort, "the Ray client server exits and `ray start --block` stops the whole node, as Ray does", () =>
      listenIdle(host, clientPort),
    );
  }
  say(`ray-client-server-port ${clientHosts.join(" and ")}:${clientPort} open (stand-in: accepts and idles)`);

  const includeDashboard = boolFlag(flags, "include-dashboard");
  if (includeDashboard !== false) {
    let dashHost = flags.get("dashboard-host") ?? "127.0.0.1";
    if (sharedNetns && dashHost === "0.0.0.0") dashHost = ip;
    const dashPort = intFlag(flags, "dashboard-port") ?? 8265;
    const dashboard = bind(
      "dashboard",
      dashHost,
      dashPort,
      includeDashboard === true ? "--include-dashboard=true makes that fatal, as in Ray" : undefined,
      () => {
        try {
          const d = startDashboard({
            host: dashHost,
            port: dashPort,
            auth,
            nodeIp: ip,
            gcsAddress: `${ip}:${port}`,
            nodeId,
            agentAddress: listeners.agentHttp,
            stateDir,
            sessionName: `session_standin_${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}_${process.pid}`,
            // Ray's dashboard lists the head, the live workers and the recently dead ones.
            nodes: () => [
              { hostname: hostname(), ip, nodeId, alive: true, isHead: true },
              ...[...members.values()].map((m) => ({ hostname: m.hostname, ip: m.address, nodeId: m.nodeId, alive: true, isHead: false })),
              ...[...dead.values()].map((d) => ({ hostname: "", ip: d.address.split(":")[0]!, nodeId: d.nodeId, alive: false, isHead: false })),
            ],
          });
          killJobs = d.killJobs;
          return { port: d.server.port ?? dashPort, stop: () => d.server.stop(true) };
        } catch (error) {
          throw new BindError((error as { code?: string }).code ?? "EUNKNOWN", (error as Error).message);
        }
      },
    );
    if (dashboard) say(`dashboard-port ${dashHost}:${dashboard.port} open (Jobs API)`);
  }
  writeFileSync(join(stateDir, "head.json"), JSON.stringify({ host: ip, port }));
  say(`head ${nodeName} listening on ${gcsHost}:${port} (GCS stand-in) at ${Date.now()}`);
  say(
    `cluster id ${clusterId}; node manager ${ip}:${listeners.nodeManagerPort}; health checks: first after ${health.initialDelayMs} ms, every ${health.periodMs} ms, ` +
      `timeout ${health.timeoutMs} ms, dead after ${health.threshold} failures`,
  );
  // What Ray prints once the node is up (the node agent reports the head ready on it).
  say("Ray runtime started.");
  await new Promise(() => {});
}

// ---------------------------------------------------------------- worker

async function startWorker(flags: Map<string, string>): Promise<void> {
  const resources = checkRayParams(flags, false);
  const auth = resolveAuth(false);
  const { host, port } = splitHostPort(flags.get("address")!);
  const { ip, how } = await nodeIp(flags, host);
  const nodeId = randomHex(28);
  const connectTimeoutMs = envInt("RAY_STANDIN_CONNECT_TIMEOUT_MS", 10_000);
  const reconnectTimeoutMs = envInt("RAY_gcs_rpc_server_reconnect_timeout_s", 60) * 1000;
  const pingMs = 500;
  const silenceMs = 2500;
  writePidFile("worker");
  say(`starting worker ${nodeName} (this is a stand-in, not Ray ${imitatedRay}) for head ${host}:${port}`);
  say(`node IP ${ip} (${how})`);
  sayAuth(auth);
  const listeners = openNodeListeners(flags, ip, nodeId);

  let conn: LineConnection | undefined;
  let clusterId: string | null = null;
  let lastHeard = Date.now();
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`worker ${nodeName} stopping on ${signal}`);
    if (conn) {
      conn.send("UNREGISTER");
      await conn.next(150);
    }
    exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));

  const markedDead = (payload: string): never => {
    let why = payload;
    try {
      why = JSON.parse(payload).reason ?? payload;
    } catch {}
    fail(
      `the head marked node ${nodeName} dead: ${why}. The head could not reach this node at its advertised ${ip}:${listeners.nodeManagerPort}. ` +
        "Like Ray's raylet, this node exits. Check that the head can connect to the advertised address (--node-ip-address) and node manager port",
    );
  };

  /** Lines nobody awaits: PONG (liveness), DEAD (health checks failed), ERR. */
  const dispatch = (line: string) => {
    lastHeard = Date.now();
    if (line.startsWith("DEAD")) markedDead(line.slice(5));
    if (line.startsWith("ERR")) fail(`the head at ${host}:${port} answered ${line}`);
  };

  /** REGISTER on a fresh connection; exits on a refusal, false when no answer came. */
  async function register(c: LineConnection, waitMs: number): Promise<boolean> {
    c.send(
      `REGISTER ${JSON.stringify({ node: nodeName, nodeId, address: ip, nodeManagerPort: listeners.nodeManagerPort, clusterId, auth: auth.enabled ? sha256(auth.token!) : null, resources, hostname: hostname() })}`,
    );
    const answer = await c.next(waitMs);
    if (answer === undefined) return false;
    lastHeard = Date.now();
    const space = answer.indexOf(" ");
    const verb = space < 0 ? answer : answer.slice(0, space);
    const rest = space < 0 ? "" : answer.slice(space + 1);
    if (verb === "OK") {
      clusterId = JSON.parse(rest).clusterId;
      return true;
    }
    const code = rest.split(" ")[0];
    const detail = rest.slice((code?.length ?? 0) + 1);
    if (verb === "ERR" && code === "cluster-id") {
      const { expected } = JSON.parse(detail) as { expected: string };
      fail(
        `the head at ${host}:${port} is another cluster now (cluster id ${expected}; this node joined ${clusterId}): its GCS was restarted without its state. ` +
          "A worker of an earlier head cannot join a new one, so this node exits, as Ray's raylet does",
      );
    }
    if (verb === "ERR" && code === "dead") markedDead(detail);
    if (verb === "ERR" && (code === "auth-missing" || code === "auth-invalid")) {
      fail(
        code === "auth-missing"
          ? `the head at ${host}:${port} has token auth on and this node sent no token: set RAY_AUTH_MODE=token and the cluster's RAY_AUTH_TOKEN`
          : `the head at ${host}:${port} refused this node's token (RAY_AUTH_TOKEN differs from the cluster's)`,
      );
    }
    if (verb === "DEAD") markedDead(rest);
    fail(`the head at ${host}:${port} refused the registration: ${answer}`);
  }

  /** Connects and registers, retrying until the deadline; false when it passed. */
  async function join(deadline: number): Promise<boolean> {
    let lastError = "";
    while (Date.now() < deadline && !stopping) {
      const left = deadline - Date.now();
      try {
        const c = await connectLines(host, port, Math.min(1000, Math.max(50, left)), (line) => dispatch(line));
        if (await register(c, Math.min(2000, Math.max(50, deadline - Date.now())))) {
          conn = c;
          return true;
        }
        c.close();
        lastError = "no answer to REGISTER";
      } catch (error) {
        lastError = reason(error);
      }
      await Bun.sleep(Math.min(250, Math.max(0, deadline - Date.now())));
    }
    if (lastError) say(`last attempt to reach the head ${host}:${port}: ${lastError}`);
    return false;
  }

  if (!(await join(Date.now() + connectTimeoutMs))) {
    fail(`cannot reach head ${host}:${port} within ${connectTimeoutMs} ms (RAY_STANDIN_CONNECT_TIMEOUT_MS)`);
  }
  say(`worker ${nodeName} registered with ${host}:${port} (cluster ${clusterId}; advertises ${ip}:${listeners.nodeManagerPort})`);
  say("Ray runtime started.");

  while (true) {
    // Connected: ping, listen for DEAD, notice a closed connection or a silent head.
    const lost = await new Promise<string>((resolve) => {
      const c = conn!;
      const timer = setInterval(() => {
        if (Date.now() - lastHeard > silenceMs) {
          clearInterval(timer);
          resolve(`no answer for ${silenceMs} ms`);
        } else c.send("PING");
      }, pingMs);
      c.closed.then(() => {
        clearInterval(timer);
        resolve("connection closed");
      });
    });
    conn?.close();
    conn = undefined;
    if (stopping) return;
    say(
      `lost the head ${host}:${port} (${lost}); retrying for up to ${reconnectTimeoutMs / 1000} s after it last answered (RAY_gcs_rpc_server_reconnect_timeout_s)`,
    );
    if (!(await join(lastHeard + reconnectTimeoutMs))) {
      if (stopping) return;
      fail(
        `the head at ${host}:${port} has been unreachable for more than ${reconnectTimeoutMs / 1000} s (RAY_gcs_rpc_server_reconnect_timeout_s); this node exits, as Ray's raylet does`,
      );
    }
    say(`reconnected to head ${host}:${port} (same cluster ${clusterId})`);
  }
}

// ---------------------------------------------------------------- stop / status

async function stopAll(flags: Map<string, string>): Promise<void> {
  const force = flags.has("force");
  const graceMs = (intFlag(flags, "grace-period") ?? 5) * 1000;
  const pids = existsSync(stateDir)
    ? readdirSync(stateDir)
        .filter((f) => f.endsWith(".pid"))
        .map((f) => Number(readFileSync(join(stateDir, f), "utf8")))
    : [];
  // A pid file left by a killed process may name a pid reused since: only stand-in processes are stopped.
  const running = pids.filter((pid) => pid !== process.pid && alive(pid) && sameProgram(pid));
  for (const pid of running) process.kill(pid, force ? "SIGKILL" : "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (running.some(alive) && Date.now() < deadline) await Bun.sleep(20);
  const stubborn = running.filter(alive);
  for (const pid of stubborn) process.kill(pid, "SIGKILL");
  for (const f of existsSync(stateDir) ? readdirSync(stateDir) : []) if (f.endsWith(".pid")) rmSync(join(stateDir, f), { force: true });
  say(`stopped ${running.length} process(es) of node ${nodeName}${stubborn.length ? ` (${stubborn.length} with SIGKILL after ${graceMs / 1000} s)` : ""}`);
}

async function status(flags: Map<string, string>): Promise<void> {
  let target = flags.get("address");
  if (!target) {
    const file = join(stateDir, "head.json");
    if (!existsSync(file)) fail(`no head runs on node ${nodeName}; pass --address H:P`);
    const { host, port } = JSON.parse(readFileSync(file, "utf8")) as { host: string; port: number };
    target = `${host}:${port}`;
  }
  const { host, port } = splitHostPort(target);
  let conn: LineConnection;
  try {
    conn = await connectLines(host, port, 5000);
  } catch (error) {
    fail(`cannot reach head ${target}: ${reason(error)}`);
  }
  conn.send("STATUS");
  const lines: string[] = [];
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const line = await conn.next(deadline - Date.now());
    if (line === undefined || line === "END") break;
    lines.push(line);
  }
  conn.close();
  const nodes = lines.filter((l) => l.startsWith("NODE "));
  const cluster = lines.find((l) => l.startsWith("CLUSTER "));
  say(`cluster ${cluster?.split(" ")[1] ?? "?"} at ${target}: ${nodes.length} alive node(s)`);
  for (const line of lines.filter((l) => l.startsWith("NODE ") || l.startsWith("DEAD "))) say(line);
}

// ---------------------------------------------------------------- main

// Even a bug in the stand-in prints lines that say stand-in (one line, the stack joined).
for (const event of ["uncaughtException", "unhandledRejection"] as const) {
  process.on(event, (error: unknown) => fail(`internal error in the stand-in: ${((error as Error)?.stack ?? String(error)).replace(/\n\s*/g, " | ")}`, 1));
}

const rest = process.argv.slice(3);
switch (command) {
  case "start": {
    const flags = parseOptions("start", rest, startOptions);
    nodeName = nodeNameFrom(flags);
    stateDir = process.env.RAY_STANDIN_DIR || `/tmp/ray-standin-${nodeName}`;
    if (flags.get("block") !== "true") fail("this stand-in supports `ray start` only with --block", 2);
    if (flags.get("head") === "true") await startHead(flags);
    else if (flags.has("address")) await startWorker(flags);
    else fail("ray start needs --head or --address", 2);
    break;
  }
  case "stop":
    await stopAll(parseOptions("stop", rest, stopOptions));
    break;
  case "status":
    await status(parseOptions("status", rest, statusOptions));
    // Do not linger on a half-closed socket.
    exit(0);
  case "--version":
  case "version":
    say(`ray, version ${standInVersion} (stand-in, not Ray)`);
    break;
  default:
    fail(`unsupported command ${JSON.stringify(command ?? "")}; the stand-in knows start, stop, status, --version`, 2);
}
