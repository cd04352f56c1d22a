/**
 * e2e workstations: the namespaced hosts of test/helpers/netns.ts, each with its own dockerd,
 * so cslr can be run "on" several machines of one LAN. Recipe: /work/shared/docker-engine.md §5,
 * with dockerd's own defaults otherwise (iptables on, docker0 present), because iptables
 * rules are per network namespace: the engine of a workstation programs only its namespace's
 * tables, and published ports (DNAT, the client's address preserved) and outbound NAT of
 * bridge-networked containers work as on a real machine. With --iptables=false a published
 * port answers only through docker-proxy (the service sees the network's gateway as the
 * client) and bridge-networked containers cannot reach the LAN; the e2e test shows both.
 *
 * Per workstation (run id R, host x):
 *   namespaces   /run/netns/cslrtR-x (network), /run/cslrt/R/uts-x (hostname cslrtR-x)
 *   engine       unix:///run/cslrt/R/x/docker.sock, pid file and dockerd.log beside it,
 *                exec root /run/cslrt/R/x/exec, data root /var/lib/cslrt/R/x,
 *                containerd namespaces cslrtR-x and cslrtR-x-plugins (its own containerd)
 *   images       saved once per run from the machine's engine to /var/lib/cslrt/R/images/
 *                (docker save -o: streamed by docker, never held in memory), loaded per host
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import {
  type CommandResult,
  type Lan,
  type NetnsHost,
  createLan,
  elapsed,
  killAll,
  log,
  processesOf,
  runCaptured,
  tool,
  unmountUnder,
} from "../../helpers/netns.ts";

export interface WorkstationOptions {
  count: number;
  /**
   * Images of the machine's engine to load: a list for every workstation, or per workstation
   * name ("a", "b", …) to spare the time of loading large images where they are not needed.
   */
  images?: string[] | ((host: string) => string[]);
  /** dockerd --iptables in the namespace. Default true (see the top of this file). */
  iptables?: boolean;
  /** dockerd's default bridge docker0 (plain `docker run` gets a network). Default true; false = --bridge=none. */
  defaultBridge?: boolean;
  /** Bound on dockerd answering /_ping. Default 60 s. */
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface EngineProcess {
  pid: number;
  comm: string;
  rssKiB: number;
}

/** This process's environment without anything that would point docker or compose elsewhere. */
function cleanEnv(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(DOCKER_|COMPOSE_)/.test(key)));
}

function rssKiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "?";
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

async function engineAnswers(socket: string): Promise<boolean> {
  try {
    const response = await fetch("http://localhost/_ping", { unix: socket, signal: AbortSignal.timeout(1000) });
    return response.ok;
  } catch {
    return false;
  }
}

export class Workstation {
  /** unix:///run/cslrt/<id>/<name>/docker.sock: this workstation's engine. */
  readonly dockerHost: string;
  readonly socket: string;
  readonly stateDir: string;
  readonly execRoot: string;
  readonly dataRoot: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly timings: { dockerdStartMs?: number; imageLoadMs: Record<string, number>; destroyMs?: number } = { imageLoadMs: {} };
  #proc: Bun.Subprocess | undefined;
  #settings: { iptables: boolean; defaultBridge: boolean; startTimeoutMs: number } | undefined;
  #destroyed = false;

  constructor(
    readonly lan: Lan,
    readonly host: NetnsHost,
  ) {
    this.stateDir = join(lan.stateDir, host.name);
    this.socket = join(this.stateDir, "docker.sock");
    this.dockerHost = `unix://${this.socket}`;
    this.execRoot = join(this.stateDir, "exec");
    this.dataRoot = join(lan.dataDir, host.name);
    this.pidFile = join(this.stateDir, "docker.pid");
    this.logFile = join(this.stateDir, "dockerd.log");
  }

  get name(): string {
    return this.host.name;
  }
  get address(): string {
    return this.host.address;
  }
  get hostname(): string {
    return this.host.hostname;
  }

  /** Environment of a program run on this workstation: this process's minus DOCKER_ and COMPOSE_ variables, plus `env`, with DOCKER_HOST = this engine. */
  env(env: Record<string, string> = {}): Record<string, string | undefined> {
    return { ...cleanEnv(), ...env, DOCKER_HOST: this.dockerHost };
  }

  /** Runs `argv` "on" this workstation (its namespaces, DOCKER_HOST = its engine), output captured, bounded. */
  exec(argv: string[], env: Record<string, string> = {}, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
    return this.host.run(argv, { ...opts, env: this.env(env) });
  }

  /** `docker ARGS` against this workstation's engine, from inside it. */
  docker(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
    return this.exec(["docker", ...args], {}, opts);
  }

  /** Starts `argv` on this workstation (killed at destroy() if still running). */
  spawn(argv: string[], env: Record<string, string> = {}): Bun.Subprocess<"ignore", "pipe", "pipe"> {
    return this.host.spawn(argv, { env: this.env(env) });
  }

  /** Starts its dockerd and waits (bounded) until it answers. */
  async start(options: { iptables: boolean; defaultBridge: boolean; startTimeoutMs: number }): Promise<void> {
    this.#settings = options;
    const start = performance.now();
    mkdirSync(this.stateDir, { recursive: true });
    mkdirSync(this.dataRoot, { recursive: true });
    const ns = this.host.netns;
    const argv = [
      "dockerd",
      "--data-root",
      this.dataRoot,
      "--exec-root",
      this.execRoot,
      "-H",
      this.dockerHost,
      "--pidfile",
      this.pidFile,
      `--iptables=${options.iptables}`,
      "--ip6tables=false",
      ...(options.defaultBridge ? [] : ["--bridge=none"]),
      "--containerd-namespace",
      ns,
      "--containerd-plugins-namespace",
      `${ns}-plugins`,
    ];
    // nsenter --net (not `ip netns exec`, which remounts /sys and hides the cgroups dockerd needs).
    const logFd = openSync(this.logFile, "a");
    try {
      this.#proc = this.host.spawn(argv, { env: cleanEnv(), stdin: "ignore", stdout: logFd, stderr: logFd });
    } finally {
      closeSync(logFd);
    }
    this.#proc.unref();
    const deadline = Date.now() + options.startTimeoutMs;
    while (!(await engineAnswers(this.socket))) {
      if (this.#proc.exitCode !== null || Date.now() > deadline) {
        const why = this.#proc.exitCode !== null ? `dockerd exited ${this.#proc.exitCode}` : `dockerd not answering after ${options.startTimeoutMs} ms`;
        throw new Error(`${this.name}: ${why}; ${this.logFile} ends:\n${this.logTail()}`);
      }
      await Bun.sleep(100);
    }
    this.timings.dockerdStartMs = elapsed(start);
  }

  /**
   * A reboot of this workstation's engine: SIGTERM to its dockerd (which stops the containers
   * as a shutdown would), wait until it is gone (bounded), start it again with the same
   * settings. Only this workstation's dockerd, found by its pid file and data root.
   */
  async restartEngine(stopTimeoutMs = 60_000): Promise<void> {
    const pid = this.#dockerdPid();
    if (pid === undefined || !this.#settings) throw new Error(`${this.name}: no dockerd of this workstation is running`);
    process.kill(pid, "SIGTERM");
    const deadline = Date.now() + stopTimeoutMs;
    while (alive(pid)) {
      if (Date.now() > deadline) throw new Error(`${this.name}: dockerd ${pid} still running ${stopTimeoutMs} ms after SIGTERM`);
      await Bun.sleep(100);
    }
    await this.start(this.#settings);
  }

  logTail(lines = 20): string {
    try {
      return readFileSync(this.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** `docker load -i FILE` into this engine; returns ms. */
  async load(image: string, file: string): Promise<number> {
    const start = performance.now();
    const loaded = await runCaptured(["docker", "-H", this.dockerHost, "load", "-q", "-i", file], { env: cleanEnv(), timeoutMs: 600_000 });
    if (loaded.code !== 0) throw new Error(`${this.name}: docker load of ${image} failed: ${loaded.stderr.trim()}`);
    return (this.timings.imageLoadMs[image] = elapsed(start));
  }

  /** The engine's processes (dockerd, containerd, shims, docker-proxy: all in the namespace), with RSS. */
  engineProcesses(): EngineProcess[] {
    const ino = this.#netnsInode();
    if (ino === undefined) return [];
    return processesOf(new Set([ino])).map((pid) => ({ pid, comm: comm(pid), rssKiB: rssKiB(pid) }));
  }

  #netnsInode(): number | undefined {
    try {
      return statSync(`/run/netns/${this.host.netns}`).ino;
    } catch {
      return undefined;
    }
  }

  #dockerdPid(): number | undefined {
    const fromFile = (() => {
      try {
        return Number(readFileSync(this.pidFile, "utf8").trim()) || undefined;
      } catch {
        return undefined;
      }
    })();
    const pid = fromFile ?? this.#proc?.pid;
    if (pid === undefined) return undefined;
    // Only the dockerd of this data root: a stale pid file may name a reused pid.
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(this.dataRoot) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Removes every container of this engine, stops dockerd by its pid file (SIGTERM, 15 s,
   * then SIGKILL), kills whatever is left in the namespace or in its containers' cgroups,
   * unmounts what dockerd left under its roots, removes the roots and deletes the namespace.
   * Idempotent; the LAN stays.
   */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    const start = performance.now();
    const problems: string[] = [];
    if (await engineAnswers(this.socket)) {
      const ids = (await runCaptured(["docker", "-H", this.dockerHost, "ps", "-aq"], { env: cleanEnv(), timeoutMs: 30_000 })).stdout
        .split("\n")
        .filter(Boolean);
      if (ids.length > 0) {
        const removed = await runCaptured(["docker", "-H", this.dockerHost, "rm", "-f", "-v", ...ids], { env: cleanEnv(), timeoutMs: 60_000 });
        if (removed.code !== 0) problems.push(`docker rm -f: ${removed.stderr.trim()}`);
      }
    }
    const pid = this.#dockerdPid();
    if (pid !== undefined) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // exited meanwhile
      }
      const deadline = Date.now() + 15_000;
      while (alive(pid) && Date.now() < deadline) await Bun.sleep(50);
      if (alive(pid)) {
        problems.push(`dockerd ${pid} ignored SIGTERM for 15 s; SIGKILLed`);
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // exited meanwhile
        }
      }
    }
    const ino = this.#netnsInode();
    const containerIds = new Set<string>();
    try {
      for (const c of readdirSync(join(this.dataRoot, "containers"))) containerIds.add(c);
    } catch {
      // no containers folder
    }
    const survivors = await killAll(() => processesOf(ino === undefined ? new Set() : new Set([ino]), containerIds));
    if (survivors.length > 0) problems.push(`processes still alive: ${survivors.join(", ")}`);
    const mounted = unmountUnder([this.stateDir, this.dataRoot, this.host.utsPath]);
    if (mounted.length > 0) problems.push(`still mounted: ${mounted.join(", ")}`);
    if (existsSync(`/run/netns/${this.host.netns}`)) {
      const deleted = tool(["ip", "netns", "del", this.host.netns]);
      if (deleted.code !== 0) problems.push(`ip netns del ${this.host.netns}: ${deleted.stderr.trim()}`);
    }
    if (mounted.length === 0) {
      await Promise.all([
        rm(this.dataRoot, { recursive: true, force: true }),
        rm(this.stateDir, { recursive: true, force: true }),
        rm(this.host.utsPath, { force: true }),
      ]);
    }
    this.#destroyed = true;
    this.timings.destroyMs = elapsed(start);
    if (problems.length > 0) throw new Error(`${this.name}: destroy incomplete: ${problems.join("; ")}`);
  }
}

/** Workstations on one LAN; destroy() removes all of them and the LAN. */
export class Workstations {
  readonly timings: {
    lanMs: number;
    dockerdStartMs: number;
    imageSaveMs: Record<string, number>;
    imageBytes: Record<string, number>;
    totalMs: number;
    destroyMs?: number;
  } = {
    lanMs: 0,
    dockerdStartMs: 0,
    imageSaveMs: {},
    imageBytes: {},
    totalMs: 0,
  };
  #destroyed = false;

  constructor(
    readonly lan: Lan,
    readonly hosts: Workstation[],
    readonly logLine: (line: string) => void,
  ) {}

  get id(): string {
    return this.lan.id;
  }

  host(name: string): Workstation {
    const found = this.hosts.find((w) => w.name === name);
    if (!found) throw new Error(`no workstation ${name} in run ${this.id}`);
    return found;
  }

  /** Every engine's dockerd/containerd RSS, one line per workstation. */
  memoryReport(): string[] {
    return this.hosts.map((w) => {
      const byComm = new Map<string, number>();
      for (const p of w.engineProcesses()) byComm.set(p.comm, (byComm.get(p.comm) ?? 0) + p.rssKiB);
      const total = [...byComm.values()].reduce((a, b) => a + b, 0);
      return `${w.name}: ${[...byComm].map(([c, kib]) => `${c} ${(kib / 1024).toFixed(0)} MiB`).join(", ")} (total ${(total / 1024).toFixed(0)} MiB RSS)`;
    });
  }

  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    const start = performance.now();
    const results = await Promise.allSettled(this.hosts.map((w) => w.destroy()));
    await this.lan.destroy();
    this.#destroyed = true;
    this.timings.destroyMs = elapsed(start);
    this.logLine(
      `workstations ${this.id}: destroyed in ${this.timings.destroyMs} ms (${this.hosts.map((w) => `${w.name} ${w.timings.destroyMs ?? "?"} ms`).join(", ")})`,
    );
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed.length > 0) throw new Error(failed.map((r) => (r.reason as Error).message).join("\n"));
  }
}

/** `docker save -o` from the machine's engine, once per image; returns the files. */
async function saveImages(images: string[], dir: string, timings: Workstations["timings"], logLine: (line: string) => void): Promise<Map<string, string>> {
  mkdirSync(dir, { recursive: true });
  const files = new Map<string, string>();
  for (const [i, image] of images.entries()) {
    const file = join(dir, `${i}.tar`);
    const start = performance.now();
    // The machine's engine: whatever `docker` reaches from this process (DOCKER_HOST kept).
    const saved = await runCaptured(["docker", "save", "-o", file, image], { timeoutMs: 600_000 });
    if (saved.code !== 0) throw new Error(`docker save ${image} failed: ${saved.stderr.trim()}`);
    timings.imageSaveMs[image] = elapsed(start);
    timings.imageBytes[image] = statSync(file).size;
    logLine(`image ${image}: saved (${(timings.imageBytes[image] / 2 ** 20).toFixed(0)} MiB) in ${timings.imageSaveMs[image]} ms`);
    files.set(image, file);
  }
  return files;
}

/**
 * `count` workstations on a fresh LAN, each with its own dockerd (started concurrently) and
 * the given images loaded (saved once, loaded into the engines concurrently). Prints timings.
 * On failure everything created is removed before the error is thrown.
 */
export async function createWorkstations(options: WorkstationOptions): Promise<Workstations> {
  const logLine = options.log ?? log;
  const start = performance.now();
  const lan = await createLan({ hosts: options.count, log: logLine });
  const group = new Workstations(
    lan,
    lan.hosts.map((h) => new Workstation(lan, h)),
    logLine,
  );
  group.timings.lanMs = lan.timings.createMs;
  try {
    const engines = performance.now();
    const settings = { iptables: options.iptables ?? true, defaultBridge: options.defaultBridge ?? true, startTimeoutMs: options.startTimeoutMs ?? 60_000 };
    await Promise.all(group.hosts.map((w) => w.start(settings)));
    group.timings.dockerdStartMs = elapsed(engines);
    logLine(
      `workstations ${lan.id}: ${options.count} dockerd answering in ${group.timings.dockerdStartMs} ms (${group.hosts.map((w) => `${w.name} ${w.timings.dockerdStartMs} ms`).join(", ")}); iptables=${settings.iptables} defaultBridge=${settings.defaultBridge}`,
    );

    const wanted = (w: Workstation) => (typeof options.images === "function" ? options.images(w.name) : (options.images ?? []));
    const images = [...new Set(group.hosts.flatMap(wanted))];
    if (images.length > 0) {
      const files = await saveImages(images, join(lan.dataDir, "images"), group.timings, logLine);
      for (const [image, file] of files) {
        const loading = performance.now();
        const targets = group.hosts.filter((w) => wanted(w).includes(image));
        // Concurrently: 2.5x faster than one after the other here (2 cores).
        await Promise.all(targets.map((w) => w.load(image, file)));
        logLine(
          `image ${image}: loaded into ${targets.length} engines in ${elapsed(loading)} ms (${targets.map((w) => `${w.name} ${w.timings.imageLoadMs[image]} ms`).join(", ")})`,
        );
        rmSync(file, { force: true });
      }
    }
    group.timings.totalMs = elapsed(start);
    logLine(`workstations ${lan.id}: ready in ${group.timings.totalMs} ms; memory: ${group.memoryReport().join("; ")}`);
    return group;
  } catch (error) {
    await group.destroy().catch((cleanup: Error) => logLine(`workstations ${lan.id}: cleanup after failed create: ${cleanup.message}`));
    throw error;
  }
}
