/**
 * `cslr node`: the node agent, PID 1 of every Ray container (`_build/ray-ep.sh` execs it). Reads
 * its settings from the environment, the cluster token from the file descriptor the
 * entrypoint hands over (so it is not in Ray's environment, nor in /proc/1/environ), and runs
 * until stopped.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { defineCommand } from "citty";
import { nodeKey } from "../election/auth.ts";
import { UsageError } from "../errors.ts";
import { resolveHostAddress } from "../host/address.ts";
import { dial } from "../host/ports.ts";
import { Agent, AgentExit, type AgentIo, type RayHandle } from "../node/agent.ts";
import { NodeClient } from "../node/client.ts";
import { pinnedFetch } from "../election/tls.ts";
import { GcsProxy } from "../node/gcs-proxy.ts";
import { RayProcess, rayEnvironment } from "../node/ray.ts";
import { parseSettings, SettingsError, type NodeSettings } from "../node/settings.ts";

/**
 * The cluster token: from the root-only file named by CSLR_TOKEN_FILE (the compose secret), or
 * the descriptor named by CSLR_TOKEN_FD (older compose files), else the environment.
 */
function readClusterToken(env: NodeJS.ProcessEnv): string | undefined {
  if (env.CSLR_TOKEN_FILE !== undefined) {
    if (!env.CSLR_TOKEN_FILE.startsWith("/run/secrets/"))
      throw new UsageError(`CSLR_TOKEN_FILE=${JSON.stringify(env.CSLR_TOKEN_FILE)}: expected a file under /run/secrets/`);
    const token = readFileSync(env.CSLR_TOKEN_FILE, "utf8").trim();
    return token === "" ? undefined : token;
  }
  const fd = env.CSLR_TOKEN_FD;
  if (fd !== undefined) {
    if (!/^\d{1,4}$/.test(fd)) throw new UsageError(`CSLR_TOKEN_FD=${JSON.stringify(fd)}: expected a file descriptor number`);
    const token = readFileSync(`/dev/fd/${fd}`, "utf8").trim();
    return token === "" ? undefined : token;
  }
  return env.CSLR_CLUSTER_TOKEN || undefined;
}

/** The password of Redis's `ray` user: only from the root-only secret file ray-ep.sh names. */
function readGcsPassword(env: NodeJS.ProcessEnv): string | undefined {
  const file = env.CSLR_GCS_PASSWORD_FILE;
  if (file === undefined) return undefined;
  if (!file.startsWith("/run/secrets/")) throw new UsageError(`CSLR_GCS_PASSWORD_FILE=${JSON.stringify(file)}: expected a file under /run/secrets/`);
  const password = readFileSync(file, "utf8").trim();
  return password === "" ? undefined : password;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** The agent's real I/O: the election client, real time, Ray as a process, the GCS forwarder. */
function agentIo(settings: NodeSettings, client: NodeClient, rayEnv: Record<string, string>): AgentIo {
  const electionHost = new URL(settings.electionUrl).hostname.replace(/^\[|\]$/g, "");
  return {
    client,
    now: () => performance.now(),
    sleep,
    log: (line) => process.stderr.write(`${new Date().toISOString()} [cslr node] ${line}\n`),
    startRay: (argv, env): RayHandle => {
      const ray = RayProcess.start(argv, { ...rayEnv, ...env }, settings.rayUser);
      return {
        exited: ray.exited,
        get running() {
          return ray.running;
        },
        stop: () => ray.stop(rayEnv),
        started: ray.started,
      };
    },
    listenGcsProxy: (host, port) => GcsProxy.listen(host, port),
    portOpen: async (host, port) => (await dial(host, port)).reachable,
    // The route to the election service; on the coordinator (a loopback URL) the default
    // route's, as `cslr up` prints in the join line: never 127.0.0.1, which other hosts would dial.
    detectAddress: () => resolveHostAddress("auto", electionHost),
  };
}

export default defineCommand({
  meta: { name: "node", description: "The Ray node agent (runs inside each Ray container, started by _build/ray-ep.sh)" },
  args: {},
  async run() {
    let settings;
    try {
      settings = parseSettings(process.env, hostname());
    } catch (error) {
      if (error instanceof SettingsError) throw new UsageError(`cslr node: ${error.message}`);
      throw error;
    }
    const token = readClusterToken(process.env);
    if (settings.gcs) settings.gcs.password = readGcsPassword(process.env);
    // Ray gets the environment without the cluster token (RAY_AUTH_TOKEN, Ray's own, stays: Ray needs it).
    const rayEnv = rayEnvironment(process.env);
    const client = new NodeClient({
      url: settings.electionUrl,
      node: settings.node,
      host: settings.host,
      key: token ? nodeKey(token, settings.node) : undefined,
      // Pinned: the node's key goes only to the server holding the cluster's certificate.
      fetch: settings.electionPin ? pinnedFetch(settings.electionPin) : undefined,
      timeoutMs: settings.callTimeoutMs,
      // PID 1 of its container (ray-ep.sh execs it): its exit ends every process there, Ray too.
      fateShared: process.pid === 1,
    });
    const agent = new Agent(settings, agentIo(settings, client, rayEnv));
    if (process.env.CSLR_TOKEN_FILE !== undefined && !(settings.rayUser && settings.rayUser.uid !== 0)) {
      process.stderr.write(
        `${new Date().toISOString()} [cslr node] warning: Ray runs as root here (the image has no user other than root, or no setpriv), so Ray's jobs can read the cluster token\n`,
      );
    }
    const onSignal = () => agent.requestStop();
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    let code: number;
    try {
      code = await agent.run();
    } catch (error) {
      if (!(error instanceof AgentExit)) throw error;
      code = error.code;
    }
    // Exit now: a request still open to an unanswering service would otherwise keep a fenced
    // head's process (the container's PID 1) alive until that connection gives up.
    process.exit(code);
  },
});
