/**
 * Real-process scenarios: the real `cslr health serve`, N node agents (`cslr node`, compiled as
 * the containers run it, each started through the real `ray-ep.sh` with its own node name and
 * loopback address) and the stand-in `ray` on PATH. Everything started here is killed by
 * `cleanup()`.
 */
import { copyFileSync, chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { ClusterView } from "../../src/election/state.ts";
import { compiledCslr, compiledStandInDir, repoRoot } from "../helpers/binary.ts";
import { freePort } from "../helpers/ports.ts";
import { until } from "../helpers/until.ts";
import type { NetnsHost } from "../helpers/netns.ts";

const standInBin = join(repoRoot, "test/stand-in/bin");
const entrypoint = join(repoRoot, "templates/ray-ep.sh");

/** Loopback addresses 127.0.1.x: one per node, so heads bind their own address and port. */
export function nodeAddress(index: number): string {
  return `127.0.1.${index + 1}`;
}

export function nodeName(index: number): string {
  return `node${index + 1}`;
}

class Proc {
  output = "";
  readonly exited: Promise<number>;
  constructor(
    readonly name: string,
    readonly proc: Subprocess<"ignore", "pipe", "pipe">,
  ) {
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) this.output += decoder.decode(chunk, { stream: true });
    };
    const drained = Promise.all([collect(proc.stdout), collect(proc.stderr)]);
    this.exited = proc.exited.then(async (code) => {
      await drained;
      return code;
    });
  }
  get pid(): number {
    return this.proc.pid;
  }
  /**
   * Signals the whole process group (setsid made the process its leader). Once the leader is
   * reaped its pid may be reused (pid_max is 32768 here and a suite run starts thousands of
   * processes), and a process holding it now, with any group it leads, is another test's; while
   * the group outlives its leader, the kernel keeps the pid unused, so that group is still ours.
   */
  signalGroup(signal: NodeJS.Signals): void {
    const reaped = this.proc.exitCode !== null || this.proc.signalCode !== null;
    if (reaped && existsSync(`/proc/${this.pid}`)) return;
    try {
      process.kill(-this.pid, signal);
    } catch {}
  }
  async running(): Promise<boolean> {
    return (await Promise.race([this.exited.then(() => false), Bun.sleep(0).then(() => true)])) as boolean;
  }
}

export type NodeProc = Proc;

export interface ClusterOptions {
  nodes: number;
  leaseTtl?: number;
  healthTimeout?: number;
  headDelayMs?: number;
  token?: string;
  /** Folder with the `ray` to put first on PATH (default: the stand-in's bash wrapper). */
  rayBinDir?: string;
  /** Whitelisted node names (default: all). */
  whitelist?: string[];
  /**
   * Several hosts: the election service runs on the first, node i on host i mod n, each in its
   * own network namespace with its address auto-detected (as on real workstations).
   */
  hosts?: NetnsHost[];
  /**
   * Each node in a PID namespace of its own, its agent that namespace's PID 1, as in a
   * container: the agent's death takes its Ray with it, and its watch says so (fate-shared).
   */
  pidNamespaces?: boolean;
}

export class Harness {
  readonly dir = mkdtempSync(join(tmpdir(), "cslr-election-"));
  readonly port = freePort();
  /** One head port for every node of this harness (each binds its own loopback address); free, never fixed. */
  readonly headPort = freePort();
  readonly url: string;
  readonly statePath = join(this.dir, "election.json");
  readonly script = join(this.dir, "ray-ep.sh");
  cslr = "";
  /** Folder of the `ray` on the nodes' PATH (the compiled stand-in unless options say otherwise). */
  rayBinDir = standInBin;
  server?: Proc;
  readonly nodes = new Map<string, Proc>();
  private readonly everything: Proc[] = [];

  constructor(readonly options: ClusterOptions) {
    this.url = `http://${options.hosts?.[0]?.address ?? "127.0.0.1"}:${this.port}`;
    copyFileSync(entrypoint, this.script);
    chmodSync(this.script, 0o755);
  }

  /** Builds (or reuses) the compiled cslr; call once before starting anything. */
  async prepare(): Promise<this> {
    this.cslr = await compiledCslr();
    this.rayBinDir = this.options.rayBinDir ?? (await compiledStandInDir());
    return this;
  }

  /** The host node `index` runs on (several hosts), else undefined (this machine). */
  hostOf(index: number): NetnsHost | undefined {
    const hosts = this.options.hosts;
    return hosts && hosts.length > 0 ? hosts[index % hosts.length] : undefined;
  }

  private spawn(name: string, cmd: string[], env: Record<string, string>, host?: NetnsHost, ownPidNamespace = false): Proc {
    // unshare forks: the command is PID 1 of the new namespace (ray-ep.sh execs the agent).
    const inNamespace = ownPidNamespace ? ["unshare", "--pid", "--fork", "--kill-child", ...cmd] : cmd;
    const proc = Bun.spawn(["setsid", ...(host ? host.command(inNamespace) : inNamespace)], {
      env: { ...process.env, PATH: `${this.rayBinDir}:${process.env.PATH}`, ...env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const wrapped = new Proc(name, proc);
    this.everything.push(wrapped);
    return wrapped;
  }

  async startServer(extraArgs: string[] = []): Promise<Proc> {
    const names = (this.options.whitelist ?? Array.from({ length: this.options.nodes }, (_, i) => nodeName(i))).join(",");
    const env: Record<string, string> = this.options.token ? { CSLR_CLUSTER_TOKEN: this.options.token } : {};
    const host = this.options.hosts?.[0];
    this.server = this.spawn(
      "health",
      [
        this.cslr,
        "health",
        "serve",
        "--host",
        host ? "0.0.0.0" : "127.0.0.1",
        "--port",
        String(this.port),
        "--whitelist",
        names,
        "--state",
        this.statePath,
        "--lease-ttl",
        `${this.options.leaseTtl ?? 2}s`,
        ...extraArgs,
      ],
      env,
      host,
    );
    await until("the election service", async () => (await fetch(`${this.url}/healthz`)).ok, 10_000);
    return this.server;
  }

  async killServer(): Promise<void> {
    this.server?.signalGroup("SIGKILL");
    await this.server?.exited;
  }

  startNode(index: number, env: Record<string, string> = {}): Proc {
    const name = nodeName(index);
    const host = this.hostOf(index);
    const proc = this.spawn(
      name,
      ["bash", this.script],
      {
        CSLR_AGENT: this.cslr,
        CSLR_NODE_NAME: name,
        // On a host of its own the agent finds its address itself, as on a workstation.
        CSLR_NODE_ADDRESS: host ? "auto" : nodeAddress(index),
        CSLR_NODE_IP_ADDRESS: host ? "auto" : nodeAddress(index),
        CSLR_HEAD_PORT: String(this.headPort),
        CSLR_HEALTH_URL: this.url,
        CSLR_HEALTH_TIMEOUT: String(this.options.healthTimeout ?? 2),
        RAY_STANDIN_DIR: join(this.dir, `standin-${name}`),
        RAY_STANDIN_HEAD_DELAY_MS: String(this.options.headDelayMs ?? 30),
        // All nodes share this machine's network namespace: the stand-in binds what Ray binds to
        // 0.0.0.0 or 127.0.0.1 to the node's own 127.0.1.x address instead.
        ...(host ? {} : { RAY_STANDIN_SHARED_NETNS: "1" }),
        // A busy client port is fatal to a head (as in Ray): no fixed 10001/8265 on a shared machine.
        CSLR_CLIENT_PORT: String(freePort()),
        CSLR_DASHBOARD_PORT: String(freePort()),
        ...(this.options.token ? { CSLR_CLUSTER_TOKEN: this.options.token } : {}),
        ...env,
      },
      host,
      this.options.pidNamespaces,
    );
    this.nodes.set(name, proc);
    return proc;
  }

  /** The full roster (with the cluster token when there is one). */
  async cluster(): Promise<ClusterView> {
    const headers: Record<string, string> = this.options.token ? { authorization: `Bearer ${this.options.token}` } : {};
    const res = await fetch(`${this.url}/v1/cluster`, { headers });
    return (await res.json()) as ClusterView;
  }

  /** Waits until a ready head and `workers` joined workers of its term are on the roster. */
  async formed(workers: number, timeoutMs = 20_000): Promise<ClusterView> {
    return until(
      `a head with ${workers} joined workers`,
      async () => {
        const view = await this.cluster();
        const joined = view.workers.filter((w) => w.term === view.head?.term);
        return view.head?.ready && joined.length === workers ? view : undefined;
      },
      timeoutMs,
    );
  }

  /** The data plane's view with addresses: node → the ip it registered with at the head. */
  async rayAddresses(headAddress: string): Promise<Map<string, string>> {
    const proc = Bun.spawn([join(this.rayBinDir, "ray"), "status", "--address", headAddress], {
      env: { ...process.env, RAY_STANDIN_DIR: join(this.dir, "standin-status") },
      stdout: "pipe",
      stderr: "pipe",
    });
    const text = await new Response(proc.stdout).text();
    await proc.exited;
    return new Map([...text.matchAll(/NODE (\S+) (?:head|worker) ([\d.]+):\d+/g)].map((m) => [m[1]!, m[2]!]));
  }

  /** The data plane's view: the node list the (stand-in) Ray head reports. */
  async rayMembers(headAddress: string): Promise<string[]> {
    const proc = Bun.spawn([join(this.rayBinDir, "ray"), "status", "--address", headAddress], {
      env: { ...process.env, RAY_STANDIN_DIR: join(this.dir, "standin-status") },
      stdout: "pipe",
      stderr: "pipe",
    });
    const text = await new Response(proc.stdout).text();
    await proc.exited;
    return [...text.matchAll(/NODE (\S+) (head|worker)/g)].map((m) => `${m[1]}:${m[2]}`).sort();
  }

  /**
   * Waits until the Ray head's own node list matches the roster: workers join the roster as
   * they start Ray, and register with the head a moment later.
   */
  async dataPlaneMatches(view: ClusterView): Promise<string[]> {
    const expected = [`${view.head!.node}:head`, ...view.workers.map((w) => `${w.node}:worker`)].sort();
    return until(`the Ray head to list ${expected.join(", ")}`, async () => {
      const members = await this.rayMembers(view.head!.address);
      return members.join() === expected.join() ? members : undefined;
    });
  }

  /** SIGTERM every node (docker stop) and waits for all to exit; returns their exit codes. */
  async stopNodes(): Promise<Map<string, number>> {
    const codes = new Map<string, number>();
    for (const proc of this.nodes.values()) process.kill(proc.pid, "SIGTERM");
    for (const [name, proc] of this.nodes) codes.set(name, await proc.exited);
    this.nodes.clear();
    return codes;
  }

  /** Everything the processes printed, for a failing test's message. */
  transcript(): string {
    const parts = [...this.nodes.values(), ...(this.server ? [this.server] : [])].map((p) => `----- ${p.name}\n${p.output}`);
    return parts.join("\n");
  }

  async cleanup(): Promise<void> {
    for (const proc of this.everything) proc.signalGroup("SIGKILL");
    await Promise.all(this.everything.map((p) => p.exited));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Lines of an entrypoint's output that record a decision to be head. */
export function headDecisions(output: string): string[] {
  return output.split("\n").filter((line) => /decision=head\b/.test(line));
}
