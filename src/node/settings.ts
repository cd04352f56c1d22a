/**
 * The node agent's environment contract (what compose sets per Ray service; documented at
 * the top of `_build/ray-ep.sh`), parsed strictly: a bad value stops the
 * agent with one line naming the variable and what is expected (exit 2).
 */
import { z } from "zod";
import { isHostname, parseHostPort } from "../config/net.ts";
import { parseMemorySize } from "../config/units.ts";

const port = z.coerce.number().int().min(1).max(65535);
const hostname = z.string().refine(isHostname, { message: "expected a hostname or IPv4 address" });
const positive = z.coerce.number().positive().finite();

/** Every `ray start` port flag the agent may pin, with its environment variable. */
export const rayPortFlags = {
  nodeManagerPort: ["CSLR_NODE_MANAGER_PORT", "--node-manager-port"],
  objectManagerPort: ["CSLR_OBJECT_MANAGER_PORT", "--object-manager-port"],
  runtimeEnvAgentPort: ["CSLR_RUNTIME_ENV_AGENT_PORT", "--runtime-env-agent-port"],
  dashboardAgentGrpcPort: ["CSLR_DASHBOARD_AGENT_GRPC_PORT", "--dashboard-agent-grpc-port"],
  dashboardAgentListenPort: ["CSLR_DASHBOARD_AGENT_LISTEN_PORT", "--dashboard-agent-listen-port"],
  metricsExportPort: ["CSLR_METRICS_EXPORT_PORT", "--metrics-export-port"],
  minWorkerPort: ["CSLR_MIN_WORKER_PORT", "--min-worker-port"],
  maxWorkerPort: ["CSLR_MAX_WORKER_PORT", "--max-worker-port"],
} as const;

export type PinnedPorts = Partial<Record<keyof typeof rayPortFlags, number>>;

export interface NodeSettings {
  node: string;
  /** The workstation this node runs on, for the roster. */
  host?: string;
  /** What this node advertises: an address, or "auto" (the source address of the route to the election service). */
  nodeAddress: string | "auto";
  /** `--node-ip-address`; undefined lets Ray detect it (a container's own address in bridge networking). */
  nodeIp?: string | "auto";
  headPort: number;
  dashboardPort: number;
  clientPort: number;
  /** Where the dashboard (and its Jobs API) listens when this node is head. */
  dashboardHost: string;
  numCpus?: number;
  numGpus?: number;
  objectStoreMemory?: number;
  ports: PinnedPorts;
  electionUrl: string;
  /** SHA-256 of the election service's certificate (CSLR_HEALTH_PIN): required for an https URL. */
  electionPin?: string;
  /** Seconds each call to the election service may take. */
  callTimeoutMs: number;
  /** A fixed head (`host:port`): no election. */
  explicitHead?: string;
  /** Ray runs as this user (CSLR_RAY_USER, uid:gid, set by ray-ep.sh when the agent runs as root). */
  rayUser?: { uid: number; gid: number };
  /** CSLR_HEAD_CANDIDATE: whether this node may ever be head (whitelisted), as a Ray label; undefined: no label. */
  headCandidate?: boolean;
  /** GCS fault tolerance (CSLR_GCS_REDIS, CSLR_GCS_NAMESPACE, CSLR_GCS_PROXY_PORT): all three, or none. */
  gcs?: GcsSettings;
}

export interface GcsSettings {
  /** host:port of the Redis a head keeps the cluster's state in. */
  redis: string;
  namespace: string;
  /** Where this node's agent forwards to the current head's GCS. */
  proxyPort: number;
  /** The password of Redis's `ray` user (from the secret file; set by the command, never from the environment). */
  password?: string;
}

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SettingsError";
  }
}

type Env = Record<string, string | undefined>;

function read<T>(env: Env, name: string, schema: z.ZodType<T>, expected: string): T | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new SettingsError(`${name}=${JSON.stringify(raw.slice(0, 80))}: expected ${expected}`);
  return parsed.data;
}

function required<T>(value: T | undefined, name: string, expected: string): T {
  if (value === undefined) throw new SettingsError(`${name} is not set: expected ${expected}`);
  return value;
}

const addressOrAuto = z.string().refine((v) => v === "auto" || isHostname(v), { message: "expected an address or auto" });

export function parseSettings(env: Env, fallbackName: string): NodeSettings {
  const node = read(env, "CSLR_NODE_NAME", hostname, "a node name (letters, digits, '-' and '.')") ?? fallbackName;
  if (!isHostname(node))
    throw new SettingsError(`node name ${JSON.stringify(node)} (from the hostname): expected letters, digits, '-' and '.'; set CSLR_NODE_NAME`);
  const url = required(read(env, "CSLR_HEALTH_URL", z.string().url(), "an http(s) URL like http://health:8080"), "CSLR_HEALTH_URL", "the election service URL");
  if (!/^https?:\/\//.test(url)) throw new SettingsError(`CSLR_HEALTH_URL=${JSON.stringify(url)}: expected an http:// or https:// URL`);
  const electionPin = read(env, "CSLR_HEALTH_PIN", z.string().regex(/^[0-9a-f]{64}$/), "the 64 hex digits of the election service's certificate SHA-256");
  if (url.startsWith("https:") && electionPin === undefined)
    throw new SettingsError(`CSLR_HEALTH_URL=${JSON.stringify(url)} is https: expected CSLR_HEALTH_PIN, the certificate's SHA-256 (cslr generate sets it)`);
  const explicitHead = read(
    env,
    "HEAD_ADDRESS",
    z.string().refine((v) => parseHostPort(v) !== undefined),
    "host:port, like 10.0.0.5:6379",
  );
  const ports: PinnedPorts = {};
  for (const [key, [name]] of Object.entries(rayPortFlags) as [keyof typeof rayPortFlags, readonly [string, string]][]) {
    const value = read(env, name, port, "a port from 1 to 65535");
    if (value !== undefined) ports[key] = value;
  }
  if ((ports.minWorkerPort === undefined) !== (ports.maxWorkerPort === undefined) || (ports.minWorkerPort ?? 0) > (ports.maxWorkerPort ?? 0)) {
    throw new SettingsError("CSLR_MIN_WORKER_PORT and CSLR_MAX_WORKER_PORT: expected both, with min <= max");
  }
  const memory = read(env, "CSLR_OBJECT_STORE_MEMORY", z.string(), "bytes or a size like 512m");
  const objectStoreMemory = memory === undefined ? undefined : parseMemorySize(memory);
  if (memory !== undefined && objectStoreMemory === undefined)
    throw new SettingsError(`CSLR_OBJECT_STORE_MEMORY=${JSON.stringify(memory)}: expected bytes or a size like 512m`);
  const rayUser = read(env, "CSLR_RAY_USER", z.string().regex(/^\d{1,9}:\d{1,9}$/), "uid:gid, like 1000:100");
  const gcs = parseGcs(env);
  const timeout = read(env, "CSLR_HEALTH_TIMEOUT", positive.min(0.1).max(3600), "seconds from 0.1 to 3600") ?? 5;
  return {
    node,
    host: read(env, "CSLR_HOST_NAME", hostname, "a host name"),
    nodeAddress: read(env, "CSLR_NODE_ADDRESS", addressOrAuto, "an address other nodes reach this node by, or auto") ?? node,
    nodeIp: read(env, "CSLR_NODE_IP_ADDRESS", addressOrAuto, "an IP address of this host, or auto"),
    headPort: read(env, "CSLR_HEAD_PORT", port, "a port") ?? 6379,
    dashboardPort: read(env, "CSLR_DASHBOARD_PORT", port, "a port") ?? 8265,
    clientPort: read(env, "CSLR_CLIENT_PORT", port, "a port") ?? 10001,
    dashboardHost: read(env, "CSLR_DASHBOARD_HOST", hostname, "an address to listen on, like 0.0.0.0") ?? "0.0.0.0",
    numCpus: read(env, "CSLR_NUM_CPUS", z.coerce.number().int().min(0).max(100_000), "a whole number of CPUs"),
    numGpus: read(env, "CSLR_NUM_GPUS", z.coerce.number().int().min(0).max(1024), "a whole number of GPUs"),
    objectStoreMemory,
    ports,
    electionUrl: url,
    electionPin,
    callTimeoutMs: Math.round(timeout * 1000),
    explicitHead,
    rayUser: rayUser === undefined ? undefined : { uid: Number(rayUser.split(":")[0]), gid: Number(rayUser.split(":")[1]) },
    gcs,
    headCandidate: readBoolean(env, "CSLR_HEAD_CANDIDATE"),
  };
}

function readBoolean(env: Env, name: string): boolean | undefined {
  const value = read(env, name, z.enum(["true", "false"]), "true or false");
  return value === undefined ? undefined : value === "true";
}

function parseGcs(env: Env): GcsSettings | undefined {
  const redis = read(
    env,
    "CSLR_GCS_REDIS",
    z.string().refine((v) => parseHostPort(v) !== undefined),
    "host:port of the Redis a head keeps the GCS in",
  );
  const namespace = read(env, "CSLR_GCS_NAMESPACE", z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), "1 to 64 letters, digits, '_' or '-'");
  const proxyPort = read(env, "CSLR_GCS_PROXY_PORT", port, "a port");
  const given = [redis, namespace, proxyPort].filter((v) => v !== undefined).length;
  if (given === 0) return undefined;
  if (redis === undefined || namespace === undefined || proxyPort === undefined)
    throw new SettingsError("CSLR_GCS_REDIS, CSLR_GCS_NAMESPACE and CSLR_GCS_PROXY_PORT: expected all three (GCS fault tolerance) or none");
  return { redis, namespace, proxyPort };
}
