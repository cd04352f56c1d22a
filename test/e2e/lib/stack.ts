/**
 * One e2e cluster: a temp project folder with config.yaml/nodes.yaml pointing at the local
 * test images, a unique compose project name, unused host ports and subnets, the real CLI
 * (`bun src/cli.ts`, cwd = the folder) and a teardown that always removes what it created.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { compiledCslr, repoRoot } from "../../helpers/binary.ts";
import { runProcess } from "../../helpers/cli.ts";
import { freePortBlock } from "../../helpers/ports.ts";

export { repoRoot };
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { tcpProbe } from "../../../src/clustertest/probes.ts";
import { cidrsOverlap, parseIpv4Cidr } from "../../../src/config/net.ts";
import { pinnedFetch, pinOfPem } from "../../../src/election/tls.ts";
import { realImages, testImages } from "./engine.ts";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program with its output captured; killed (and reported) after timeoutMs (test/helpers/cli.ts runProcess). */
export async function runCommand(argv: string[], opts: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CommandResult> {
  const result = await runProcess(argv, { cwd: opts.cwd ?? process.cwd(), env: opts.env, timeoutMs: opts.timeoutMs ?? 120_000 });
  return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}

function docker(args: string[]): CommandResult {
  const result = Bun.spawnSync(["docker", ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: result.exitCode ?? 1, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

// ---------------------------------------------------------------- subnets

/** Two unused /24 subnets: ray-network and the cluster test's (overlapping no network the engine has, /16s Docker picked included). */
function freeSubnets(): [string, string] {
  const ids = docker(["network", "ls", "-q"]).stdout.split("\n").filter(Boolean);
  const used = docker(["network", "inspect", ...ids, "--format", "{{range .IPAM.Config}}{{.Subnet}} {{end}}"])
    .stdout.split(/\s+/)
    .map((cidr) => parseIpv4Cidr(cidr))
    .filter((cidr) => cidr !== undefined);
  // 10.213.0.0/16 lies outside Docker's default address pools (172.17–31/16, 192.168/16), so a
  // network Docker picked for another project never takes it.
  for (let attempt = 0; attempt < 50; attempt++) {
    const x = 2 * Math.floor(Math.random() * 127);
    const pair: [string, string] = [`10.213.${x}.0/24`, `10.213.${x + 1}.0/24`];
    if (!pair.some((s) => used.some((u) => cidrsOverlap(parseIpv4Cidr(s)!, u)))) return pair;
  }
  throw new Error("no free pair of 10.213.x.0/24 subnets");
}

// ---------------------------------------------------------------- the stack

export interface StackOptions {
  /** Short name for the project: cslr-e2e-<label>-<random>. */
  label: string;
  whitelist: string[];
  gpu: boolean;
  workers: number;
  redis?: boolean;
  /** Lease TTL of the election, seconds; short keeps failover rounds lean. */
  leaseTtl?: number;
  /**
   * Real Ray (instead of the stand-in) and real MLflow on PostgreSQL and Marimo, sized for a
   * 2-core machine: one CPU per Ray node, a 200 MB object store, 512 MB of /dev/shm.
   */
  real?: boolean;
}

export interface RosterLike {
  head: { node: string; address: string; term: number; ready?: boolean } | null;
  term: number;
  workers: { node: string; address: string; term?: number }[];
}

/**
 * The workers that joined the current head. The roster keeps an entry per node that ever
 * joined (with the term of the head it joined), so entries of earlier heads or of replaced
 * containers are left out.
 */
export function currentWorkers(roster: RosterLike): RosterLike["workers"] {
  return roster.workers.filter((w) => w.term === undefined || w.term === roster.head?.term);
}

export interface ContainerInfo {
  id: string;
  name: string;
  service: string;
  status: string;
  pid: number;
  restartCount: number;
}

export class Stack {
  /** MLFLOW_TRACKING_URI of a stand-in stack (it runs no MLflow of its own). */
  static readonly outsideMlflow = "http://mlflow.lab.example:5000";
  readonly dir: string;
  readonly project: string;
  readonly ports: {
    health: number;
    redis: number;
    mlflow: number;
    marimo: number;
    cpu: { head: number; dashboard: number; client: number };
    gpu: { head: number; dashboard: number; client: number };
  };
  readonly subnets: [string, string];
  /** The compiled cslr the health container runs (running from source, `process.execPath` is bun). */
  binary = "";

  constructor(readonly options: StackOptions) {
    this.dir = mkdtempSync(join(tmpdir(), `cslr-e2e-${options.label}-`));
    this.project = `cslr-e2e-${options.label}-${Math.random().toString(36).slice(2, 8)}`;
    const base = freePortBlock(10);
    this.ports = {
      health: base,
      redis: base + 1,
      cpu: { head: base + 2, dashboard: base + 3, client: base + 4 },
      gpu: { head: base + 5, dashboard: base + 6, client: base + 7 },
      mlflow: base + 8,
      marimo: base + 9,
    };
    this.subnets = freeSubnets();
  }

  config(): Record<string, unknown> {
    const o = this.options;
    const ray = o.real ? realImages.ray : testImages.ray;
    // Real Ray sized for 2 cores and 24 GiB; the stand-in needs next to nothing.
    const sizing = o.real ? { cpus: 1, shm_size: "512m", object_store_memory: "200m" } : { shm_size: "64m" };
    return {
      project: { name: this.project },
      network: { subnet: this.subnets[0] },
      services: {
        health: { image: testImages.base, port: this.ports.health, binary: this.binary, lease_ttl: o.leaseTtl ?? 3 },
        ray: {
          cpu: { image: ray, ...sizing, head_port: this.ports.cpu.head, dashboard_port: this.ports.cpu.dashboard, client_port: this.ports.cpu.client },
          gpu: {
            enabled: o.gpu,
            image: ray,
            gpus: 1,
            ...sizing,
            head_port: this.ports.gpu.head,
            dashboard_port: this.ports.gpu.dashboard,
            client_port: this.ports.gpu.client,
          },
          workers: o.workers,
        },
        redis: { enabled: o.redis ?? false, image: testImages.redis, port: this.ports.redis },
        mlflow: o.real
          ? { image: realImages.mlflow, port: this.ports.mlflow, postgres: { image: realImages.postgres } }
          : // No MLflow here; code on the cluster is pointed at an outside one, as a lab with its own server would.
            { enabled: false, tracking_uri: Stack.outsideMlflow, postgres: { enabled: false } },
        marimo: o.real ? { image: realImages.marimo, port: this.ports.marimo } : { enabled: false },
      },
      cluster_test: { subnet: this.subnets[1] },
    };
  }

  nodes(): Record<string, unknown> {
    return { head_whitelist: this.options.whitelist, health_service: { url: "http://health:8080", timeout: 5 } };
  }

  writeConfig(): void {
    writeFileSync(join(this.dir, "config.yaml"), stringify(this.config()));
    writeFileSync(join(this.dir, "nodes.yaml"), stringify(this.nodes()));
  }

  /**
   * This stack's config, then `cslr init` (which keeps it and creates .env with the secrets).
   * In this order init judges this stack's own project: on a shared engine another project
   * named like the example (cslr) may have PostgreSQL data that init would refuse to cover.
   */
  async init(): Promise<CommandResult> {
    this.binary = await compiledCslr();
    this.writeConfig();
    return this.cli(["init"]);
  }

  /** The real CLI from source, in the project folder. */
  cli(args: string[], timeoutMs = 180_000, cwd = this.dir): Promise<CommandResult> {
    return runCommand(["bun", join(repoRoot, "src/cli.ts"), ...args], { cwd, timeoutMs });
  }

  docker(args: string[], timeoutMs = 60_000): Promise<CommandResult> {
    return runCommand(["docker", ...args], { timeoutMs });
  }

  /** A running container's address on the stack's network (the host reaches it directly); undefined when it runs no more. */
  containerAddress(service: string): string | undefined {
    const found = this.containers().find((c) => c.service === service && c.status === "running");
    if (!found) return undefined;
    const ip = docker(["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", found.id]).stdout.trim().split(/\s+/)[0];
    return ip || undefined;
  }

  /** The Ray node id of a Ray node's container, from the head's node list (its raylet's address; real Ray only). */
  async rayNodeId(service: string): Promise<string | undefined> {
    const address = this.containerAddress(service);
    type Summary = { data: { summary: { raylet?: { nodeId: string; state: string; nodeManagerAddress: string } }[] } };
    const summary = await this.jobsApi<Summary>("/nodes?view=summary");
    return summary?.data.summary.find((n) => n.raylet?.nodeManagerAddress === address && n.raylet?.state === "ALIVE")?.raylet?.nodeId;
  }

  /** The current head's Jobs API, with Ray's token: GET path, JSON, or undefined when it does not answer. */
  async jobsApi<T>(path: string): Promise<T | undefined> {
    const head = (await this.roster())?.head;
    if (!head?.ready) return undefined;
    const port = head.node === "ray-gpu" ? this.ports.gpu.dashboard : this.ports.cpu.dashboard;
    const token = this.env().get("RAY_AUTH_TOKEN");
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        signal: AbortSignal.timeout(10_000),
      });
      return res.ok ? ((await res.json()) as T) : undefined;
    } catch {
      return undefined;
    }
  }

  async jobStatus(id: string): Promise<string | undefined> {
    return (await this.jobsApi<{ status: string }>(`/api/jobs/${id}`))?.status;
  }

  async jobDriverNode(id: string): Promise<string | undefined> {
    return (await this.jobsApi<{ driver_node_id?: string }>(`/api/jobs/${id}`))?.driver_node_id;
  }

  async jobLog(id: string): Promise<string> {
    return (await this.jobsApi<{ logs: string }>(`/api/jobs/${id}/logs`))?.logs ?? "";
  }

  env(): Map<string, string> {
    const values = new Map<string, string>();
    const path = join(this.dir, ".env");
    if (!existsSync(path)) return values;
    for (const line of readFileSync(path, "utf8").split("\n")) {
      const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
      if (match) values.set(match[1]!, match[2]!.replace(/^(['"])(.*)\1$/, "$2"));
    }
    return values;
  }

  async roster(): Promise<RosterLike | undefined> {
    try {
      // The full roster (terms included) needs the cluster token, as `cslr status` reads it.
      const token = this.env().get("CSLR_CLUSTER_TOKEN");
      // Over HTTPS, pinned to the certificate `cslr init` made here.
      const certFile = join(this.dir, "election-cert.pem");
      const tls = existsSync(certFile);
      const get = tls ? pinnedFetch(pinOfPem(readFileSync(certFile, "utf8"))!) : fetch;
      const response = await get(`${tls ? "https" : "http"}://127.0.0.1:${this.ports.health}/v1/cluster`, {
        signal: AbortSignal.timeout(1000),
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      return response.ok ? ((await response.json()) as RosterLike) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Containers of a compose project (this stack's by default), from docker inspect. */
  containers(project = this.project): ContainerInfo[] {
    const ids = docker(["ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`])
      .stdout.split("\n")
      .filter(Boolean);
    if (ids.length === 0) return [];
    const inspected = JSON.parse(docker(["inspect", ...ids]).stdout) as {
      Id: string;
      Name: string;
      RestartCount: number;
      State: { Status: string; Pid: number };
      Config: { Labels: Record<string, string> };
    }[];
    return inspected.map((c) => ({
      id: c.Id,
      name: c.Name.replace(/^\//, ""),
      service: c.Config.Labels["com.docker.compose.service"] ?? "",
      status: c.State.Status,
      pid: c.State.Pid,
      restartCount: c.RestartCount,
    }));
  }

  container(service: string): ContainerInfo {
    const found = this.containers().find((c) => c.service === service);
    if (!found) throw new Error(`no ${service} container in ${this.project}`);
    return found;
  }

  volumes(): string[] {
    return docker(["volume", "ls", "-q", "--filter", `label=com.docker.compose.project=${this.project}`])
      .stdout.split("\n")
      .filter(Boolean);
  }

  /** Is something listening behind a published port? (Docker's proxy alone does not count.) */
  async listening(port: number): Promise<boolean> {
    return (await runCommand(tcpProbe("127.0.0.1", port), { timeoutMs: 10_000 })).code === 0;
  }

  /**
   * The node whose stand-in head answers on a published head port, or undefined. It asks the
   * stand-in's own STATUS question: Docker's port proxy accepts connections with nothing
   * behind it, and only a live head answers `NODE <name> head ...`.
   */
  async headAt(port: number, timeoutMs = 3_000): Promise<string | undefined> {
    let text = "";
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const timer = setTimeout(() => finish(), timeoutMs);
    try {
      const socket = await Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: {
          data(_socket, chunk) {
            text += chunk.toString();
            if (text.includes("END\n")) finish();
          },
          close: () => finish(),
          error: () => finish(),
        },
      });
      socket.write("STATUS\n");
      await done;
      socket.end();
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
    }
    return /^NODE (\S+) head /m.exec(text)?.[1];
  }

  /**
   * Runs a program in a Ray node's container as Ray's own CLI would be run there: with the
   * cluster's Ray token in its environment (cslr hands the token to `ray start` on a file
   * descriptor, so the container's environment does not carry it).
   */
  async rayExec(service: string, argv: string[], timeoutMs = 60_000, user?: string): Promise<CommandResult> {
    const token = this.env().get("RAY_AUTH_TOKEN");
    const auth = token ? ["-e", "RAY_AUTH_MODE=token", "-e", `RAY_AUTH_TOKEN=${token}`] : [];
    return runCommand(["docker", "exec", ...(user ? ["--user", user] : []), ...auth, this.container(service).id, ...argv], { timeoutMs });
  }

  /** The node ids `ray status` in a Ray node's container lists as Active (real Ray only). */
  async rayActiveNodes(service: string): Promise<string[]> {
    const result = await this.rayExec(service, ["ray", "status"]);
    if (result.code !== 0) return [];
    const active = /^Active:\n((?: .*\n)*)/m.exec(result.stdout)?.[1] ?? "";
    return [...active.matchAll(/node_([0-9a-f]+)/g)].map((m) => m[1]!);
  }

  /**
   * What a Ray node's container says about itself, for a failing test's message: its log's tail,
   * the tails of Ray's own logs in the session folder, and which processes hold which ports.
   */
  async rayNodeReport(service: string): Promise<string> {
    const id = this.container(service).id;
    const logs = await this.docker(["logs", "--tail", "150", id], 30_000);
    const inside = await this.docker(
      [
        "exec",
        id,
        "sh",
        "-c",
        "for f in /tmp/ray/session_latest/logs/raylet.out /tmp/ray/session_latest/logs/gcs_server.out /tmp/ray/session_latest/logs/dashboard_agent.log /tmp/ray/session_latest/logs/monitor.log; do echo \"== $f\"; tail -n 40 \"$f\" 2>&1; done; echo '== listeners'; (ss -ltnp || netstat -ltnp) 2>&1 | tail -n 40; echo '== processes'; ps -eo pid,ppid,etimes,args 2>&1 | cut -c1-200",
      ],
      30_000,
    );
    return `--- ${service}: docker logs (tail)\n${logs.stdout}${logs.stderr}\n--- ${service}: inside\n${inside.stdout}${inside.stderr}`;
  }

  /** Polls until `check` returns a value (not undefined) or the time is up. */
  async waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (roster now: ${JSON.stringify(await this.roster())})`);
      await Bun.sleep(250);
    }
  }

  /** Removes every container, network and volume of this stack and its test stack, and the folder. */
  async destroy(): Promise<void> {
    for (const project of [this.project, `${this.project}-test`]) {
      await runCommand(["docker", "compose", "-p", project, "down", "--volumes", "--remove-orphans", "--timeout", "5"], { cwd: this.dir, timeoutMs: 120_000 });
      // Backstop, by the unique project label only: things `down` could not see.
      const label = `label=com.docker.compose.project=${project}`;
      const ids = docker(["ps", "-aq", "--filter", label]).stdout.split("\n").filter(Boolean);
      if (ids.length > 0) docker(["rm", "-f", "-v", ...ids]);
      for (const kind of ["network", "volume"] as const) {
        const names = docker([kind, "ls", "-q", "--filter", label]).stdout.split("\n").filter(Boolean);
        if (names.length > 0) docker([kind, "rm", ...names]);
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Asserts a CLI call exited 0, showing its output when it did not. */
export function expectOk(result: CommandResult, what: string): void {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
}
