/**
 * Helpers for the stand-in's own tests: real `ray` stand-in processes (compiled from these
 * sources by helpers/binary.ts: `bun ray.ts` transpiled the stand-in on every start, and the
 * tests start one for every `ray status` poll), waits on their output instead of sleeps, free
 * ports, and network namespaces joined by a veth pair for several simulated hosts. Everything
 * started here is killed by `cleanup()`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { compiledStandInDir } from "../helpers/binary.ts";
import { freePort } from "../helpers/ports.ts";
import { until } from "../helpers/until.ts";

/** The stand-in `ray`, compiled from test/stand-in/*.ts once per change of its sources. */
export const rayProgram = join(await compiledStandInDir(), "ray");

export class Proc {
  output = "";
  readonly exited: Promise<number>;
  exitCode: number | undefined;
  private waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];

  constructor(
    readonly name: string,
    readonly proc: Subprocess<"ignore", "pipe", "pipe">,
  ) {
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        this.output += decoder.decode(chunk, { stream: true });
        this.waiters = this.waiters.filter((w) => {
          const m = this.output.match(w.pattern);
          if (m) w.resolve(m);
          return !m;
        });
      }
    };
    const drained = Promise.all([collect(proc.stdout), collect(proc.stderr)]);
    this.exited = proc.exited.then(async (code) => {
      await drained;
      this.exitCode = code;
      return code;
    });
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** Resolves when the output matches `pattern`; rejects when the process exits first or time is up. */
  waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    const now = this.output.match(pattern);
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: no output matching ${pattern} within ${timeoutMs} ms. Output:\n${this.output}`)),
        timeoutMs,
      );
      this.waiters.push({
        pattern,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
      this.exited.then((code) => {
        setTimeout(() => {
          const m = this.output.match(pattern);
          if (m) return resolve(m);
          clearTimeout(timer);
          reject(new Error(`${this.name} exited (${code}) before printing ${pattern}. Output:\n${this.output}`));
        }, 0);
      });
    });
  }

  signal(signal: NodeJS.Signals): void {
    try {
      process.kill(this.pid, signal);
    } catch {}
  }

  /** The exit code, or undefined if it still runs after `ms`. */
  async exitWithin(ms: number): Promise<number | undefined> {
    return Promise.race([this.exited, Bun.sleep(ms).then(() => undefined)]);
  }
}

export interface NodeStatus {
  name: string;
  role: string;
  address: string;
  line: string;
}

/** Parses `ray status` output: the NODE lines. */
export function parseStatus(text: string): NodeStatus[] {
  return [...text.matchAll(/^\[ray stand-in\] (NODE (\S+) (head|worker) (\S+).*)$/gm)].map((m) => ({ line: m[1]!, name: m[2]!, role: m[3]!, address: m[4]! }));
}

export class Kit {
  readonly dir = mkdtempSync(join(tmpdir(), "h3-standin-test-"));
  private readonly procs: Proc[] = [];

  /**
   * `ray ARGS` as node `name`, with its own state folder; `prefixCmd` runs it inside something
   * (ip netns exec). An `env` value of undefined removes that variable.
   */
  ray(name: string, args: string[], env: Record<string, string | undefined> = {}, prefixCmd: string[] = []): Proc {
    const merged: Record<string, string | undefined> = { ...process.env, CSLR_NODE_NAME: name, RAY_STANDIN_DIR: join(this.dir, name), ...env };
    for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
    const proc = Bun.spawn([...prefixCmd, rayProgram, ...args], {
      env: merged as Record<string, string>,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const wrapped = new Proc(name, proc);
    this.procs.push(wrapped);
    return wrapped;
  }

  /** Runs `ray status --address` and returns its NODE lines (and the raw text). */
  async status(address: string, prefixCmd: string[] = []): Promise<{ nodes: NodeStatus[]; text: string; code: number }> {
    const proc = this.ray("status-client", ["status", "--address", address], {}, prefixCmd);
    const code = await proc.exited;
    return { nodes: parseStatus(proc.output), text: proc.output, code };
  }

  /** Waits until `ray status` lists exactly the node names given (sorted). */
  async statusLists(address: string, names: string[], prefixCmd: string[] = [], timeoutMs = 15_000): Promise<NodeStatus[]> {
    const want = [...names].sort().join(",");
    return until(
      `ray status at ${address} to list ${want}`,
      async () => {
        const { nodes } = await this.status(address, prefixCmd);
        return nodes
          .map((n) => n.name)
          .sort()
          .join(",") === want
          ? nodes
          : undefined;
      },
      timeoutMs,
    );
  }

  transcript(): string {
    return this.procs
      .filter((p) => p.name !== "status-client")
      .map((p) => `----- ${p.name} (exit ${p.exitCode ?? "running"})\n${p.output}`)
      .join("\n");
  }

  async cleanup(): Promise<void> {
    for (const proc of this.procs) proc.signal("SIGCONT");
    for (const proc of this.procs) proc.signal("SIGKILL");
    await Promise.all(this.procs.map((p) => p.exited));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Base options for a head that takes only free ports (tests run next to other things). */
/** n free ports, all different: a port freed after one probe can be handed out again by the next, and Ray (the stand-in too) refuses one port for two components. */
function distinctFreePorts(n: number): number[] {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(freePort("0.0.0.0"));
  return [...ports];
}

export function headArgs(extra: string[] = []): { args: string[]; port: number; dashboardPort: number; clientPort: number } {
  const [port, dashboardPort, clientPort, agentPort] = distinctFreePorts(4) as [number, number, number, number];
  return {
    port,
    dashboardPort,
    clientPort,
    args: [
      "start",
      "--head",
      "--block",
      `--port=${port}`,
      `--dashboard-port=${dashboardPort}`,
      `--ray-client-server-port=${clientPort}`,
      `--dashboard-agent-listen-port=${agentPort}`,
      "--disable-usage-stats",
      ...extra,
    ],
  };
}

/** Worker options with free ports for what has a fixed default. */
export function workerArgs(head: string, extra: string[] = []): string[] {
  return ["start", `--address=${head}`, "--block", `--dashboard-agent-listen-port=${freePort("0.0.0.0")}`, "--disable-usage-stats", ...extra];
}

// ---------------------------------------------------------------- network namespaces

/** Why namespace tests cannot run here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "not root (network namespaces need CAP_NET_ADMIN)";
  if (!Bun.which("ip")) return "the `ip` command (iproute2) is missing";
  return undefined;
}

function ip(args: string[]): void {
  const result = Bun.spawnSync(["ip", ...args], { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`ip ${args.join(" ")}: ${result.stderr.toString().trim()}`);
}

/**
 * Two simulated hosts: namespaces A and B joined by a veth pair on 10.93.<n>.0/24 (A .1, B .2).
 * No default routes: A cannot reach anything B has beyond that subnet. `hiddenB` is an extra
 * address on B's loopback (10.93.<n+1>.2): it exists on B, A has no route to it, like a
 * container address behind another host's Docker bridge.
 */
export class TwoHosts {
  readonly id = Math.floor(Math.random() * 0xffff)
    .toString(16)
    .padStart(4, "0");
  readonly a = `h3t${this.id}a`;
  readonly b = `h3t${this.id}b`;
  readonly subnet = 100 + 2 * Math.floor(Math.random() * 70);
  readonly addrA = `10.93.${this.subnet}.1`;
  readonly addrB = `10.93.${this.subnet}.2`;
  readonly hiddenB = `10.93.${this.subnet + 1}.2`;
  private created = false;

  setup(): void {
    this.created = true;
    ip(["netns", "add", this.a]);
    ip(["netns", "add", this.b]);
    ip(["link", "add", `${this.a}0`, "type", "veth", "peer", "name", `${this.b}0`]);
    ip(["link", "set", `${this.a}0`, "netns", this.a]);
    ip(["link", "set", `${this.b}0`, "netns", this.b]);
    for (const [ns, dev, addr] of [
      [this.a, `${this.a}0`, this.addrA],
      [this.b, `${this.b}0`, this.addrB],
    ] as const) {
      ip(["-n", ns, "link", "set", "lo", "up"]);
      ip(["-n", ns, "addr", "add", `${addr}/24`, "dev", dev]);
      ip(["-n", ns, "link", "set", dev, "up"]);
    }
    ip(["-n", this.b, "addr", "add", `${this.hiddenB}/32`, "dev", "lo"]);
  }

  exec(ns: string): string[] {
    return ["ip", "netns", "exec", ns];
  }

  /** Makes A's connections to B's `port` fail at once (a firewall between hosts), from now on. */
  cutAtoB(port: number): void {
    ip(["-n", this.a, "rule", "add", "to", this.addrB, "ipproto", "tcp", "dport", String(port), "prohibit"]);
  }

  cleanup(): void {
    if (!this.created) return;
    for (const ns of [this.a, this.b]) {
      Bun.spawnSync(["ip", "netns", "del", ns], { stdout: "ignore", stderr: "ignore" });
    }
  }
}
