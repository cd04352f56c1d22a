/**
 * Real-process scenarios: the real `cslr health serve` (from source), N copies of the real
 * generated entrypoint, each with its own node name and loopback address, and the stand-in
 * `ray` on PATH. Everything started here is killed by `cleanup()`.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { renderEmbedded } from "../../src/render/engine.ts";
import type { RayEntrypointData } from "../../src/election/entrypoint-data.ts";
import type { ClusterView } from "../../src/election/state.ts";

const repo = resolve(import.meta.dir, "../..");
const standInBin = join(repo, "test/stand-in/bin");
const cli = join(repo, "src/cli.ts");

export const headPort = 16379;

/** Loopback addresses 127.0.1.x: one per node, so heads bind their own address and port. */
export function nodeAddress(index: number): string {
  return `127.0.1.${index + 1}`;
}

export function nodeName(index: number): string {
  return `node${index + 1}`;
}

/** A free TCP port on loopback (bound then released). */
export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

export async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      last = error;
    }
    await Bun.sleep(25);
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
}

class Proc {
  output = "";
  readonly exited: Promise<number>;
  constructor(readonly name: string, readonly proc: Subprocess<"ignore", "pipe", "pipe">) {
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
  /** Signals the whole process group (setsid made the process its leader). */
  signalGroup(signal: NodeJS.Signals): void {
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
}

export class Harness {
  readonly dir = mkdtempSync(join(tmpdir(), "cslr-election-"));
  readonly port = freePort();
  readonly url = `http://127.0.0.1:${this.port}`;
  readonly statePath = join(this.dir, "election.json");
  readonly script = join(this.dir, "ray-ep.sh");
  server?: Proc;
  readonly nodes = new Map<string, Proc>();
  private readonly everything: Proc[] = [];

  constructor(readonly options: ClusterOptions) {
    const names = Array.from({ length: options.nodes }, (_, i) => nodeName(i));
    const data: RayEntrypointData = {
      whitelist: names,
      headCandidates: names.map((name, i) => ({ name, address: nodeAddress(i), port: headPort })),
      headAddress: null,
      healthUrl: this.url,
      healthTimeout: options.healthTimeout ?? 10,
      leaseTtl: options.leaseTtl ?? 2,
    };
    writeFileSync(this.script, renderEmbedded("ray-ep.sh", data));
    chmodSync(this.script, 0o755);
  }

  private spawn(name: string, cmd: string[], env: Record<string, string>): Proc {
    const proc = Bun.spawn(["setsid", ...cmd], {
      env: { ...process.env, PATH: `${this.options.rayBinDir ?? standInBin}:${process.env.PATH}`, ...env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const wrapped = new Proc(name, proc);
    this.everything.push(wrapped);
    return wrapped;
  }

  async startServer(extraArgs: string[] = []): Promise<Proc> {
    const names = Array.from({ length: this.options.nodes }, (_, i) => nodeName(i)).join(",");
    const env: Record<string, string> = this.options.token ? { CSLR_CLUSTER_TOKEN: this.options.token } : {};
    this.server = this.spawn(
      "health",
      ["bun", cli, "health", "serve", "--host", "127.0.0.1", "--port", String(this.port), "--whitelist", names,
        "--state", this.statePath, "--lease-ttl", `${this.options.leaseTtl ?? 2}s`, ...extraArgs],
      env,
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
    const proc = this.spawn(name, ["bash", this.script], {
      CSLR_NODE_NAME: name,
      CSLR_NODE_ADDRESS: nodeAddress(index),
      CSLR_NODE_IP_ADDRESS: nodeAddress(index),
      CSLR_HEAD_PORT: String(headPort),
      RAY_STANDIN_DIR: join(this.dir, `standin-${name}`),
      RAY_STANDIN_HEAD_DELAY_MS: String(this.options.headDelayMs ?? 30),
      // All nodes share this machine's network namespace: the stand-in binds what Ray binds to
      // 0.0.0.0 or 127.0.0.1 to the node's own 127.0.1.x address instead.
      RAY_STANDIN_SHARED_NETNS: "1",
      // A busy client port is fatal to a head (as in Ray): no fixed 10001/8265 on a shared machine.
      CSLR_CLIENT_PORT: String(freePort()),
      CSLR_DASHBOARD_PORT: String(freePort()),
      ...(this.options.token ? { CSLR_CLUSTER_TOKEN: this.options.token } : {}),
      ...env,
    });
    this.nodes.set(name, proc);
    return proc;
  }

  async cluster(): Promise<ClusterView> {
    const res = await fetch(`${this.url}/v1/cluster`);
    return (await res.json()) as ClusterView;
  }

  /** Waits until a ready head and `workers` joined workers of its term are on the roster. */
  async formed(workers: number, timeoutMs = 20_000): Promise<ClusterView> {
    return until(`a head with ${workers} joined workers`, async () => {
      const view = await this.cluster();
      const joined = view.workers.filter((w) => w.term === view.head?.term);
      return view.head?.ready && joined.length === workers ? view : undefined;
    }, timeoutMs);
  }

  /** The data plane's view: the node list the (stand-in) Ray head reports. */
  async rayMembers(headAddress: string): Promise<string[]> {
    const proc = Bun.spawn([join(standInBin, "ray"), "status", "--address", headAddress], {
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
