/**
 * Simulated workstations on one machine: each host is a network namespace (plus its own UTS
 * namespace, so it has its own hostname) with one interface `eth0` on a private LAN.
 *
 *   root namespace            LAN namespace cslrt<id>-lan          host namespace cslrt<id>-a
 *   cslrt<id>gw 10.7x.N.1 ─── gw ─┐
 *                                 br0 ── p-a ─────────────────────── eth0 10.7x.N.11
 *                                     ── p-b ───── ...               default via 10.7x.N.1
 *
 * Why the bridge lives in its own namespace and not in the root one: with br_netfilter built
 * in (bridge-nf-call-iptables=1), frames bridged in the root namespace go through the root
 * FORWARD chain, and the machine's Docker engine sets its policy to DROP: hosts on a root
 * bridge cannot reach each other (seen here). In its own namespace the bridge has its own,
 * empty, firewall, so nothing of the machine's is read or changed. The root namespace only
 * gets the gateway address, so this process can reach every host directly.
 *
 * Ownership: every run has an id; everything it creates is named `cslrt<id>…` and is listed
 * under /run/cslrt/<id>/ (owner.json: pid, process start time, boot id, subnet). Teardown works
 * from names alone, so it is idempotent and copes with a half-created run; cleanupStale() tears
 * down runs whose owner died. Subnets (a /24 in 10.77.0.0/16 or 10.78.0.0/16) are claimed by
 * creating /run/cslrt/subnets/<subnet> exclusively, so concurrent runs never share one.
 */
import { describe, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const namePrefix = "cslrt";
export const stateRoot = "/run/cslrt";
export const dataRoot = "/var/lib/cslrt";
const subnetRoot = join(stateRoot, "subnets");
const netnsDir = "/run/netns";
/** The chain in the LAN namespace that holds partition rules; heal() flushes it. */
const partitionChain = "CSLRT-PARTITION";
const idPattern = /^[a-z][a-z0-9]{3}$/;

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

// ---------------------------------------------------------------- small process helpers

/** Runs a short tool synchronously, bounded; a missing program is exit code 127. */
export function tool(argv: string[], timeoutMs = 15_000): CommandResult {
  const path = Bun.which(argv[0]!);
  if (!path) return { code: 127, stdout: "", stderr: `${argv[0]} not found on PATH` };
  const result = Bun.spawnSync([path, ...argv.slice(1)], { stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: timeoutMs });
  const stderr = result.stderr.toString() + (result.exitedDueToTimeout ? `\n[killed after ${timeoutMs} ms]` : "");
  return { code: result.exitCode ?? 1, stdout: result.stdout.toString(), stderr };
}

function must(argv: string[], timeoutMs?: number): string {
  const result = tool(argv, timeoutMs);
  if (result.code !== 0) throw new Error(`${argv.join(" ")} exited ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** Runs a program with output captured; killed (and reported) after timeoutMs. */
export async function runCaptured(
  argv: string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const proc = Bun.spawn(argv, {
    cwd: opts.cwd,
    env: opts.env ?? { ...process.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: timeoutMs,
    killSignal: "SIGKILL",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const killed = proc.signalCode === "SIGKILL" ? `\n[killed after ${timeoutMs} ms: ${argv.join(" ")}]` : "";
  return { code, stdout, stderr: stderr + killed };
}

export function log(line: string): void {
  console.error(`cslrt: ${line}`);
}

export function elapsed(start: number): number {
  return Math.round(performance.now() - start);
}

// ---------------------------------------------------------------- availability

let availability: { available: true } | { available: false; reason: string } | undefined;

/**
 * Whether this process can build namespaced hosts, and if not why (one line). Checks the
 * tools, then really creates and deletes a namespace (proves CAP_NET_ADMIN/CAP_SYS_ADMIN).
 */
export function netnsAvailable(): { available: true } | { available: false; reason: string } {
  if (availability) return availability;
  const no = (reason: string) => (availability = { available: false, reason });
  if (process.platform !== "linux") return no(`not Linux (${process.platform})`);
  if (process.getuid?.() !== 0) return no("not root (network namespaces need CAP_NET_ADMIN and CAP_SYS_ADMIN)");
  for (const program of ["ip", "nsenter", "unshare", "umount", "iptables", "bash", "timeout"]) {
    if (!Bun.which(program)) return no(`${program} not found on PATH (packages: iproute2, util-linux, iptables, coreutils)`);
  }
  if (!existsSync("/proc/sys/net/bridge/bridge-nf-call-iptables")) return no("no br_netfilter (/proc/sys/net/bridge missing): partitions need it");
  // Not of the form cslrt<id>-…: no run's teardown can mistake it for one of its namespaces.
  const probe = `${namePrefix}-probe-${process.pid}`;
  const added = tool(["ip", "netns", "add", probe]);
  if (added.code !== 0) return no(`cannot create a network namespace (no CAP_NET_ADMIN?): ${added.stderr.trim()}`);
  tool(["ip", "netns", "del", probe]);
  return (availability = { available: true });
}

/** describe() when namespaces work; else a visible skip, or a failing test under CSLR_E2E_REQUIRED=1. */
export function describeNetns(name: string, body: () => void): void {
  const probe = netnsAvailable();
  if (probe.available) describe(name, body);
  else if (process.env.CSLR_E2E_REQUIRED === "1") {
    describe(name, () => {
      test("network namespaces are usable (CSLR_E2E_REQUIRED=1)", () => {
        throw new Error(probe.reason);
      });
    });
  } else {
    console.warn(`netns skipped: ${name}: ${probe.reason}`);
    describe.skip(name, body);
  }
}

// ---------------------------------------------------------------- ownership records

interface OwnerRecord {
  id: string;
  pid: number;
  /** Field 22 of /proc/<pid>/stat: tells a reused pid from the owner. */
  pidStart: string;
  bootId: string;
  created: string;
  subnet?: string;
}

function pidStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function bootId(): string {
  return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
}

function readOwner(id: string): OwnerRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(stateRoot, id, "owner.json"), "utf8")) as OwnerRecord;
  } catch {
    return undefined;
  }
}

function writeOwner(record: OwnerRecord): void {
  const path = join(stateRoot, record.id, "owner.json");
  writeFileSync(`${path}.tmp`, JSON.stringify(record, null, 2));
  renameSync(`${path}.tmp`, path);
}

function ownerAlive(record: OwnerRecord): boolean {
  return record.bootId === bootId() && pidStart(record.pid) === record.pidStart;
}

/** A new run: a fresh id whose state folder this process created (mkdir is the lock). */
function newRun(): OwnerRecord {
  mkdirSync(stateRoot, { recursive: true, mode: 0o755 });
  for (let attempt = 0; attempt < 100; attempt++) {
    const id = String.fromCharCode(97 + Math.floor(Math.random() * 26)) + Math.random().toString(36).slice(2, 5).padEnd(3, "0");
    if (!idPattern.test(id)) continue;
    try {
      mkdirSync(join(stateRoot, id));
    } catch {
      continue;
    }
    const record: OwnerRecord = { id, pid: process.pid, pidStart: pidStart(process.pid)!, bootId: bootId(), created: new Date().toISOString() };
    writeOwner(record);
    return record;
  }
  throw new Error(`no free run id under ${stateRoot}`);
}

// ---------------------------------------------------------------- subnets

function ipv4ToInt(address: string): number {
  return address.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

/** Do two IPv4 prefixes (a.b.c.d/len) overlap? */
export function prefixesOverlap(a: string, b: string): boolean {
  const [addrA, lenA = "32"] = a.split("/");
  const [addrB, lenB = "32"] = b.split("/");
  const len = Math.min(Number(lenA), Number(lenB));
  if (len === 0) return true;
  const shift = 32 - len;
  return Math.floor(ipv4ToInt(addrA!) / 2 ** shift) === Math.floor(ipv4ToInt(addrB!) / 2 ** shift);
}

/** Routes of the root namespace, as prefixes (the default route left out). */
function rootPrefixes(): string[] {
  const routes = JSON.parse(must(["ip", "-j", "-4", "route", "show", "table", "all"]) || "[]") as { dst: string }[];
  return routes.map((r) => r.dst).filter((dst) => dst && dst !== "default" && /^\d/.test(dst));
}

/** Claims a /24 in 10.77.0.0/16 or 10.78.0.0/16 that no run claimed and no root route overlaps. */
function claimSubnet(id: string): string {
  mkdirSync(subnetRoot, { recursive: true });
  const used = rootPrefixes();
  const candidates = Array.from({ length: 512 }, (_, i) => `10.${77 + (i >> 8)}.${i & 255}.0/24`).filter((s) => !s.endsWith(".0.0/24"));
  for (let i = candidates.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
  }
  for (const subnet of candidates) {
    if (used.some((prefix) => prefixesOverlap(prefix, subnet))) continue;
    try {
      writeFileSync(join(subnetRoot, subnet.replace("/", "_")), id, { flag: "wx" });
      return subnet;
    } catch {
      // claimed by another run
    }
  }
  throw new Error("no free /24 in 10.77.0.0/16 or 10.78.0.0/16");
}

// ---------------------------------------------------------------- teardown (by name only)

function netnsNames(id: string): string[] {
  try {
    return readdirSync(netnsDir).filter((name) => name.startsWith(`${namePrefix}${id}-`));
  } catch {
    return [];
  }
}

function rootLinks(prefix: string): string[] {
  const links = JSON.parse(tool(["ip", "-j", "link", "show"]).stdout || "[]") as { ifname: string }[];
  return links.map((l) => l.ifname).filter((name) => name.startsWith(prefix));
}

function mountPointsUnder(dirs: string[]): string[] {
  const points = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
  return points.filter((p) => dirs.some((d) => p === d || p.startsWith(`${d}/`)));
}

/** Unmounts everything under `dirs`, deepest first; lazily when a mount is busy. */
export function unmountUnder(dirs: string[]): string[] {
  for (let round = 0; round < 3; round++) {
    const points = mountPointsUnder(dirs).sort((a, b) => b.length - a.length);
    if (points.length === 0) return [];
    for (const point of points) if (tool(["umount", point]).code !== 0) tool(["umount", "-l", point]);
  }
  return mountPointsUnder(dirs);
}

function nsInode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** Live (not zombie) processes in one of the network namespaces, or in a cgroup of one of the containers. */
export function processesOf(netnsInodes: Set<number>, containerIds: Set<string> = new Set()): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const ino = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/net`))?.[1]);
      if (netnsInodes.has(ino)) {
        found.push(pid);
        continue;
      }
      if (containerIds.size > 0) {
        const id = /\/docker\/([0-9a-f]{64})/.exec(readFileSync(`/proc/${pid}/cgroup`, "utf8"))?.[1];
        if (id && containerIds.has(id)) found.push(pid);
      }
    } catch {
      // gone, or a zombie (no namespaces left)
    }
  }
  return found;
}

/** SIGKILLs the processes and waits (bounded) until none is left alive. */
export async function killAll(find: () => number[], timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = find();
    if (pids.length === 0) return [];
    if (Date.now() > deadline) return pids;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await Bun.sleep(50);
  }
}

/** Container ids of every engine whose data root lies under this run's data folder. */
function containerIdsOf(id: string): Set<string> {
  const ids = new Set<string>();
  const runData = join(dataRoot, id);
  if (!existsSync(runData)) return ids;
  for (const host of readdirSync(runData)) {
    try {
      for (const c of readdirSync(join(runData, host, "containers"))) if (/^[0-9a-f]{64}$/.test(c)) ids.add(c);
    } catch {
      // not an engine
    }
  }
  return ids;
}

/**
 * Removes everything of run `id`, found by name: processes in its namespaces or its engines'
 * containers (SIGKILL), mounts under its folders, its namespaces and root links, its subnet
 * claim and folders. Idempotent; every step runs even when an earlier one failed; throws at
 * the end listing what could not be removed.
 */
export async function teardownRun(id: string): Promise<void> {
  if (!idPattern.test(id)) throw new Error(`not a run id: ${JSON.stringify(id)}`);
  const problems: string[] = [];
  const stateDir = join(stateRoot, id);
  const dataDir = join(dataRoot, id);
  const namespaces = netnsNames(id);
  const inodes = new Set(namespaces.map((n) => nsInode(join(netnsDir, n))).filter((i): i is number => i !== undefined));
  const containers = containerIdsOf(id);
  const survivors = await killAll(() => processesOf(inodes, containers));
  if (survivors.length > 0) problems.push(`processes still alive: ${survivors.join(", ")}`);
  const mounted = unmountUnder([stateDir, dataDir]);
  if (mounted.length > 0) problems.push(`still mounted: ${mounted.join(", ")}`);
  for (const link of rootLinks(`${namePrefix}${id}`)) {
    const deleted = tool(["ip", "link", "del", link]);
    if (deleted.code !== 0 && rootLinks(link).includes(link)) problems.push(`ip link del ${link}: ${deleted.stderr.trim()}`);
  }
  for (const ns of namespaces) {
    const deleted = tool(["ip", "netns", "del", ns]);
    if (deleted.code !== 0 && existsSync(join(netnsDir, ns))) problems.push(`ip netns del ${ns}: ${deleted.stderr.trim()}`);
  }
  try {
    for (const claim of readdirSync(subnetRoot)) {
      const path = join(subnetRoot, claim);
      if (readFileSync(path, "utf8").trim() === id) rmSync(path, { force: true });
    }
  } catch {
    // no claims
  }
  // Never delete a folder something is still mounted in: rm -r would walk into the mount.
  for (const dir of [dataDir, stateDir]) {
    if (mountPointsUnder([dir]).length === 0) rmSync(dir, { recursive: true, force: true });
  }
  if (problems.length > 0) throw new Error(`teardown of run ${id} incomplete: ${problems.join("; ")}`);
}

/** What of run `id` is still there (empty when nothing): for tests of teardown. */
export function leftoversOf(id: string): string[] {
  const left: string[] = [];
  for (const ns of netnsNames(id)) left.push(`netns ${ns}`);
  for (const link of rootLinks(`${namePrefix}${id}`)) left.push(`link ${link}`);
  for (const point of mountPointsUnder([join(stateRoot, id), join(dataRoot, id)])) left.push(`mount ${point}`);
  for (const dir of [join(stateRoot, id), join(dataRoot, id)]) if (existsSync(dir)) left.push(`dir ${dir}`);
  for (const pid of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmdline.includes(`${stateRoot}/${id}/`) || cmdline.includes(`${dataRoot}/${id}/`))
        left.push(`process ${pid} ${cmdline.replaceAll("\0", " ").slice(0, 80)}`);
    } catch {
      // gone
    }
  }
  try {
    for (const claim of readdirSync(subnetRoot)) if (readFileSync(join(subnetRoot, claim), "utf8").trim() === id) left.push(`subnet claim ${claim}`);
  } catch {
    // no claims
  }
  return left;
}

export interface StaleReport {
  /** Runs whose owner was dead and that were torn down. */
  reaped: string[];
  /** Runs left alone because their owner lives. */
  alive: string[];
  /** `cslrt*` namespaces/links with no record: not ours to judge, left alone. */
  unowned: string[];
  /** Teardowns that failed, with why. */
  failed: string[];
}

/**
 * Tears down the runs of dead owners: a record whose pid (with the same start time and boot)
 * is gone, a record-less state folder older than a minute (a crash between mkdir and the
 * record), and data folders with no state folder (e.g. after a reboot emptied /run). A run
 * always writes its record before creating anything, so a live run is never taken. Two
 * cleanups at once are harmless: teardown is idempotent.
 */
export async function cleanupStale(): Promise<StaleReport> {
  const report: StaleReport = { reaped: [], alive: [], unowned: [], failed: [] };
  const ids = new Set<string>();
  for (const root of [stateRoot, dataRoot]) {
    try {
      for (const entry of readdirSync(root)) if (idPattern.test(entry)) ids.add(entry);
    } catch {
      // nothing there yet
    }
  }
  try {
    for (const claim of readdirSync(subnetRoot)) {
      const owner = readFileSync(join(subnetRoot, claim), "utf8").trim();
      if (idPattern.test(owner)) ids.add(owner);
    }
  } catch {
    // no claims
  }
  for (const id of [...ids].sort()) {
    const record = readOwner(id);
    const stateDir = join(stateRoot, id);
    if (record && ownerAlive(record)) {
      report.alive.push(id);
      continue;
    }
    if (!record && existsSync(stateDir) && Date.now() - statSync(stateDir).mtimeMs < 60_000) {
      report.alive.push(id); // being created right now
      continue;
    }
    try {
      await teardownRun(id);
      report.reaped.push(id);
    } catch (error) {
      report.failed.push(`${id}: ${(error as Error).message}`);
    }
  }
  const known = (name: string) => [...ids].some((id) => name.startsWith(`${namePrefix}${id}`));
  try {
    for (const ns of readdirSync(netnsDir)) if (ns.startsWith(namePrefix) && !known(ns)) report.unowned.push(`netns ${ns}`);
  } catch {
    // no namespaces
  }
  for (const link of rootLinks(namePrefix)) if (!known(link)) report.unowned.push(`link ${link}`);
  if (report.reaped.length + report.failed.length + report.unowned.length > 0) {
    log(`cleanupStale: reaped [${report.reaped.join(" ")}] failed [${report.failed.join("; ")}] unowned, left alone [${report.unowned.join(", ")}]`);
  }
  return report;
}

// ---------------------------------------------------------------- hosts and the LAN

export type SpawnOptions<In extends Bun.Spawn.Writable, Out extends Bun.Spawn.Readable, Err extends Bun.Spawn.Readable> = Bun.Spawn.SpawnOptions<In, Out, Err>;

export class NetnsHost {
  /** Its own hostname (UTS namespace), = the namespace name. */
  readonly hostname: string;
  readonly #children = new Set<Bun.Subprocess>();

  constructor(
    /** Short name: a, b, c, … */
    readonly name: string,
    /** Network namespace, /run/netns/<netns>. */
    readonly netns: string,
    /** The host's address on the LAN (interface eth0). */
    readonly address: string,
    /** Bind mount of its UTS namespace. */
    readonly utsPath: string,
  ) {
    this.hostname = netns;
  }

  /** The argv that runs `argv` in this host: nsenter into its network and UTS namespaces. */
  command(argv: string[]): string[] {
    return ["nsenter", `--net=${netnsDir}/${this.netns}`, `--uts=${this.utsPath}`, "--", ...argv];
  }

  /**
   * Starts `argv` in this host (nsenter execs it: the subprocess's pid is the program's). The
   * environment is exactly `opts.env` when given, else a copy of this process's. Processes
   * still running at destroy() are killed.
   */
  spawn<const In extends Bun.Spawn.Writable = "ignore", const Out extends Bun.Spawn.Readable = "pipe", const Err extends Bun.Spawn.Readable = "pipe">(
    argv: string[],
    opts: SpawnOptions<In, Out, Err> = {},
  ): Bun.Subprocess<In, Out, Err> {
    const proc = Bun.spawn(this.command(argv), {
      stdin: "ignore" as In,
      stdout: "pipe" as Out,
      stderr: "pipe" as Err,
      ...opts,
      env: opts.env ?? { ...process.env },
    });
    this.#children.add(proc);
    void proc.exited.then(() => this.#children.delete(proc));
    return proc;
  }

  /** Runs `argv` in this host to completion, output captured, killed after timeoutMs. */
  run(argv: string[], opts: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
    return runCaptured(this.command(argv), opts);
  }

  /**
   * Connects from this host to address:port and reads until the server closes (bash
   * /dev/tcp, bounded by `timeout`). ok=false when the connection fails or times out.
   */
  async tcpRead(address: string, port: number, timeoutMs = 3_000): Promise<{ ok: boolean; text: string; ms: number; error: string }> {
    const start = performance.now();
    const seconds = (timeoutMs / 1000).toFixed(1);
    const result = await this.run(["timeout", seconds, "bash", "-c", 'exec 3<>"/dev/tcp/$1/$2" && cat <&3', "tcp-read", address, String(port)], {
      timeoutMs: timeoutMs + 5_000,
    });
    return {
      ok: result.code === 0,
      text: result.stdout,
      ms: elapsed(start),
      error: result.code === 124 ? `timed out after ${timeoutMs} ms` : result.stderr.trim(),
    };
  }

  /** SIGKILLs what spawn() started that still runs. */
  killChildren(): void {
    for (const child of this.#children) child.kill("SIGKILL");
  }
}

export interface LanOptions {
  hosts: number;
  /** Where timings go; default: stderr, prefixed `cslrt:`. */
  log?: (line: string) => void;
}

export interface Partition {
  a: string;
  b?: string;
}

export class Lan {
  readonly timings: { createMs: number; destroyMs?: number } = { createMs: 0 };
  readonly partitions: Partition[] = [];
  #destroyed = false;

  constructor(
    /** Run id: every name of this LAN starts with cslrt<id>. */
    readonly id: string,
    /** e.g. 10.77.42.0/24 */
    readonly subnet: string,
    /** The root namespace's address on the LAN (default route of the hosts). */
    readonly gateway: string,
    /** Namespace holding the bridge br0 and the partition rules. */
    readonly lanNetns: string,
    readonly hosts: NetnsHost[],
    readonly logLine: (line: string) => void,
  ) {}

  /** State folder of this run: /run/cslrt/<id>. */
  get stateDir(): string {
    return join(stateRoot, this.id);
  }

  /** Data folder of this run: /var/lib/cslrt/<id>. */
  get dataDir(): string {
    return join(dataRoot, this.id);
  }

  host(name: string): NetnsHost {
    const found = this.hosts.find((h) => h.name === name || h.netns === name);
    if (!found) throw new Error(`no host ${name} on LAN ${this.id}`);
    return found;
  }

  #iptables(args: string[]): CommandResult {
    return tool(["nsenter", `--net=${netnsDir}/${this.lanNetns}`, "--", "iptables", "-w", "5", ...args]);
  }

  #port(host: NetnsHost | string): string {
    return `p-${typeof host === "string" ? this.host(host).name : host.name}`;
  }

  /**
   * Cuts a host off: with only `a`, from everyone (the LAN, the gateway, so this process too);
   * with `b`, only a and b from each other. Both directions. Packets are dropped silently on
   * the switch (iptables DROP on the bridge ports, physdev match, in the LAN namespace), as in
   * a real partition: connects time out, established connections stall. Nothing inside the
   * hosts changes (their engines' own iptables rules are untouched).
   */
  partition(a: NetnsHost | string, b?: NetnsHost | string): void {
    if (this.#iptables(["-C", "FORWARD", "-j", partitionChain]).code !== 0) {
      const created = this.#iptables(["-N", partitionChain]);
      if (created.code !== 0 && !/exists/i.test(created.stderr)) throw new Error(`iptables -N ${partitionChain} in ${this.lanNetns}: ${created.stderr.trim()}`);
      const linked = this.#iptables(["-I", "FORWARD", "-j", partitionChain]);
      if (linked.code !== 0) throw new Error(`iptables -I FORWARD in ${this.lanNetns}: ${linked.stderr.trim()}`);
    }
    const pa = this.#port(a);
    const rules =
      b === undefined
        ? [
            ["--physdev-in", pa],
            ["--physdev-out", pa],
          ]
        : [
            ["--physdev-in", pa, "--physdev-out", this.#port(b)],
            ["--physdev-in", this.#port(b), "--physdev-out", pa],
          ];
    for (const rule of rules) {
      const added = this.#iptables(["-A", partitionChain, "-m", "physdev", ...rule, "-j", "DROP"]);
      if (added.code !== 0) throw new Error(`iptables partition rule in ${this.lanNetns}: ${added.stderr.trim()}`);
    }
    const nameOf = (h: NetnsHost | string) => (typeof h === "string" ? this.host(h).name : h.name);
    this.partitions.push(b === undefined ? { a: nameOf(a) } : { a: nameOf(a), b: nameOf(b) });
  }

  /** Removes every partition. */
  heal(): void {
    if (this.partitions.length === 0) return;
    const flushed = this.#iptables(["-F", partitionChain]);
    if (flushed.code !== 0) throw new Error(`iptables -F ${partitionChain} in ${this.lanNetns}: ${flushed.stderr.trim()}`);
    this.partitions.length = 0;
  }

  /** Kills what the hosts run, removes namespaces, links and folders. Idempotent. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    const start = performance.now();
    for (const host of this.hosts) host.killChildren();
    await teardownRun(this.id);
    this.#destroyed = true;
    this.timings.destroyMs = elapsed(start);
    this.logLine(`lan ${this.id}: destroyed in ${this.timings.destroyMs} ms`);
  }
}

function hostLetter(index: number): string {
  return index < 26 ? String.fromCharCode(97 + index) : `h${index}`;
}

/**
 * A LAN of `hosts` namespaced hosts: addresses .11, .12, … of a fresh /24, gateway .1 in the
 * root namespace, loopback up, each with its own hostname. On failure everything created so
 * far is removed before the error is thrown.
 */
export async function createLan(options: LanOptions): Promise<Lan> {
  if (options.hosts < 1 || options.hosts > 200) throw new Error(`hosts must be 1..200, got ${options.hosts}`);
  const logLine = options.log ?? log;
  const start = performance.now();
  const record = newRun();
  const id = record.id;
  try {
    const subnet = claimSubnet(id);
    writeOwner({ ...record, subnet });
    const base = subnet.replace(/\.0\/24$/, "");
    const gateway = `${base}.1`;
    const lanNs = `${namePrefix}${id}-lan`;
    const inLan = (args: string[]) => must(["ip", "-n", lanNs, ...args]);
    const gwLink = `${namePrefix}${id}gw`;

    must(["ip", "netns", "add", lanNs]);
    inLan(["link", "set", "lo", "up"]);
    inLan(["link", "add", "br0", "type", "bridge"]);
    inLan(["link", "set", "br0", "up"]);
    // Partitions are iptables rules on bridged frames: br_netfilter must hand them to iptables here.
    must(["nsenter", `--net=${netnsDir}/${lanNs}`, "--", "sh", "-c", "echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables"]);
    must(["ip", "link", "add", gwLink, "type", "veth", "peer", "name", "gw", "netns", lanNs]);
    must(["ip", "addr", "add", `${gateway}/24`, "dev", gwLink]);
    must(["ip", "link", "set", gwLink, "up"]);
    inLan(["link", "set", "gw", "master", "br0", "up"]);

    const hosts: NetnsHost[] = [];
    for (let i = 0; i < options.hosts; i++) {
      const name = hostLetter(i);
      const ns = `${namePrefix}${id}-${name}`;
      const address = `${base}.${11 + i}`;
      const utsPath = join(stateRoot, id, `uts-${name}`);
      must(["ip", "netns", "add", ns]);
      writeFileSync(utsPath, "");
      must(["unshare", `--uts=${utsPath}`, "hostname", ns]);
      inLan(["link", "add", `p-${name}`, "type", "veth", "peer", "name", "eth0", "netns", ns]);
      inLan(["link", "set", `p-${name}`, "master", "br0", "up"]);
      const inHost = (args: string[]) => must(["ip", "-n", ns, ...args]);
      inHost(["addr", "add", `${address}/24`, "dev", "eth0"]);
      inHost(["link", "set", "eth0", "up"]);
      inHost(["link", "set", "lo", "up"]);
      inHost(["route", "add", "default", "via", gateway]);
      hosts.push(new NetnsHost(name, ns, address, utsPath));
    }
    const lan = new Lan(id, subnet, gateway, lanNs, hosts, logLine);
    lan.timings.createMs = elapsed(start);
    logLine(`lan ${id}: ${options.hosts} hosts on ${subnet} created in ${lan.timings.createMs} ms`);
    return lan;
  } catch (error) {
    await teardownRun(id).catch((cleanup: Error) => logLine(`lan ${id}: cleanup after failed create: ${cleanup.message}`));
    throw error;
  }
}
