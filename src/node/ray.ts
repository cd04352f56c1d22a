/**
 * Ray as the node agent runs it: the `ray start` command line (pure: built only from parsed
 * settings and a parsed head address, passed as argv, never through a shell), and the process
 * that runs it.
 */
import type { Subprocess } from "bun";
import { rayPortFlags, type NodeSettings } from "./settings.ts";

export type RayRole = { kind: "head" } | { kind: "worker"; head: string };

export function rayStartArgv(settings: NodeSettings, role: RayRole, nodeIp: string | undefined): string[] {
  const argv = ["ray", "start", "--block", "--disable-usage-stats"];
  if (role.kind === "head") {
    argv.push(
      "--head",
      `--port=${settings.headPort}`,
      `--dashboard-host=${settings.dashboardHost}`,
      `--dashboard-port=${settings.dashboardPort}`,
      `--ray-client-server-port=${settings.clientPort}`,
    );
    // Ray 2.60 takes the Redis password nowhere but here (its GCS server's argv shows it):
    // the password is the `ray` user's, which reaches only Ray's keys.
    if (settings.gcs?.password !== undefined) argv.push("--redis-username=ray", `--redis-password=${settings.gcs.password}`);
  } else {
    argv.push(`--address=${role.head}`);
  }
  if (nodeIp) argv.push(`--node-ip-address=${nodeIp}`);
  // cslr run puts drivers on nodes that can never be head (jobs/placement.ts headCandidateLabel).
  if (settings.headCandidate !== undefined) argv.push(`--labels=cslr.io/head-candidate=${settings.headCandidate}`);
  if (settings.numCpus !== undefined) argv.push(`--num-cpus=${settings.numCpus}`);
  if (settings.numGpus !== undefined) argv.push(`--num-gpus=${settings.numGpus}`);
  if (settings.objectStoreMemory !== undefined) argv.push(`--object-store-memory=${settings.objectStoreMemory}`);
  for (const [key, [, flag]] of Object.entries(rayPortFlags) as [keyof typeof rayPortFlags, readonly [string, string]][]) {
    const value = settings.ports[key];
    if (value !== undefined) argv.push(`${flag}=${value}`);
  }
  return argv;
}

/**
 * How long a raylet (and every GCS client) keeps reconnecting to a GCS that went away: past a
 * head change that waits for the lease (a silent head: TTL + margin) plus a new head's start.
 * Ray's own default, 60 s, is shorter than that at the default TTL of 30 s.
 */
export function gcsReconnectSeconds(leaseTtlMs: number): number {
  // Five minutes at least: a real head's start took up to 95 s on a loaded 2-core machine.
  return Math.max(300, Math.ceil((2 * leaseTtlMs) / 1000) + 60);
}

/**
 * What `ray start` gets in its environment besides the agent's (the Redis address and the
 * cluster's namespace only for a head: a worker's Ray never talks to Redis).
 */
export function rayStartEnvironment(settings: NodeSettings, role: RayRole, leaseTtlMs: number): Record<string, string> {
  const gcs = settings.gcs;
  if (!gcs) return { ...slowStart };
  const reconnect = { ...slowStart, RAY_gcs_rpc_server_reconnect_timeout_s: String(gcsReconnectSeconds(leaseTtlMs)) };
  if (role.kind !== "head") return reconnect;
  return { ...reconnect, RAY_REDIS_ADDRESS: gcs.redis, RAY_external_storage_namespace: gcs.namespace };
}

/**
 * On SIGTERM `ray start --block` marks its node draining and waits up to this long (Ray's
 * default: 30 s, for Serve's proxies) before it stops. A whitelisted worker granted the lease
 * stops its worker Ray before it starts the head's, so that wait was the cluster's: measured
 * with real Ray, 30 s between the grant and the new head's start. Two seconds still let the
 * GCS mark the node draining, so nothing new lands on it.
 */
const quickStop = { RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S: "2" } as const;

/**
 * A raylet waits this long for its node's Python agents to register, and dies after. On a
 * workstation busy with training, measured on a loaded 2-core machine, the dashboard agent took
 * over a minute to import its modules; Ray's own limit is shorter. Five minutes: a slow start,
 * not a crash loop. It does not cover one wait: Ray 2.60's raylet gives the dashboard agent a
 * fixed 15 s to write its listen-port file (seen: "Timed out waiting for file
 * …/dashboard_agent_listen_port_…" 15 s after the raylet started), and a head start that
 * misses it fails and is tried again.
 */
const slowStart = { RAY_agent_register_timeout_ms: "300000", ...quickStop } as const;

/**
 * A command run as Ray's user: the agent runs as root only to read the cluster token, and
 * setpriv drops to the image's user, so Ray and its jobs cannot read the token's file nor the
 * agent's memory. Unchanged when there is no such user (or it is root).
 */
export function asRayUser(argv: string[], user: { uid: number; gid: number } | undefined): string[] {
  if (!user || user.uid === 0) return argv;
  return ["setpriv", `--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--", ...argv];
}

/** What the agent hands on to Ray: none of its secrets, nor where they are. */
const agentOnly = new Set(["CSLR_CLUSTER_TOKEN", "CSLR_NODE_KEY", "CSLR_TOKEN_FD", "CSLR_TOKEN_FILE", "CSLR_RAY_USER", "CSLR_GCS_PASSWORD_FILE"]);

/** The environment Ray gets: the agent's, without its secrets (Ray's tasks run with it). */
export function rayEnvironment(env: Record<string, string | undefined>, extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || agentOnly.has(name)) continue;
    out[name] = value;
  }
  return { ...out, ...extra };
}

/** What `ray start` prints once its node is up and registered with the GCS (ray/scripts/scripts.py). */
export const rayStartedLine = "Ray runtime started.";

/**
 * Copies a stream to `out` unchanged and resolves true once `marker` has passed through it
 * (false when the stream ends first). Chunks are scanned with the tail of the previous one, so
 * a marker split across two reads is still seen.
 */
export async function teeUntil(stream: ReadableStream<Uint8Array>, out: NodeJS.WritableStream, marker: string, seen: () => void): Promise<void> {
  const decoder = new TextDecoder();
  let tail = "";
  let found = false;
  for await (const chunk of stream) {
    out.write(chunk);
    if (found) continue;
    const text = tail + decoder.decode(chunk, { stream: true });
    if (text.includes(marker)) {
      found = true;
      seen();
    }
    tail = text.slice(-marker.length);
  }
}

/** A running `ray start --block`: its output goes to the container's log. */
export class RayProcess {
  readonly exited: Promise<number>;
  /** Resolves true once Ray says its node is up, false if it exits first. */
  readonly started: Promise<boolean>;
  private constructor(
    private readonly proc: Subprocess<"ignore", "pipe", "pipe">,
    private readonly user?: { uid: number; gid: number },
  ) {
    this.exited = proc.exited.then(() => proc.exitCode ?? 128 + 9);
    let seen!: () => void;
    const marked = new Promise<true>((resolve) => (seen = () => resolve(true)));
    void teeUntil(proc.stdout, process.stdout, rayStartedLine, seen).catch(() => undefined);
    void teeUntil(proc.stderr, process.stderr, rayStartedLine, seen).catch(() => undefined);
    this.started = Promise.race([marked, this.exited.then(() => false)]);
  }

  static start(argv: string[], env: Record<string, string>, user?: { uid: number; gid: number }): RayProcess {
    const proc = Bun.spawn(asRayUser(argv, user), { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    return new RayProcess(proc, user);
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /**
   * Stops Ray: `ray stop` finds all of this node's Ray processes, then the `ray start` this
   * agent began is made sure of. Bounded: after `graceMs` the process is killed.
   */
  // 25 s: `ray stop` waits 16 s (its --grace-period) and then SIGKILLs what is left itself; cut
  // off before that, a raylet stuck reconnecting to a dead GCS and its agents outlived the stop
  // and held Ray's pinned ports against the next Ray on this node.
  async stop(env: Record<string, string>, graceMs = 25_000): Promise<void> {
    if (!this.running) return;
    const stopper = Bun.spawn(asRayUser(["ray", "stop"], this.user), { env, stdin: "ignore", stdout: "inherit", stderr: "inherit" });
    const stopped = await Promise.race([stopper.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
    if (!stopped) stopper.kill("SIGKILL");
    if (this.running) this.proc.kill("SIGTERM");
    const gone = await Promise.race([this.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
    if (!gone) this.proc.kill("SIGKILL");
    await this.exited;
  }
}
