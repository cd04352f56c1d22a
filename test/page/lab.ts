/**
 * A generated lab for the page's tests and `bun run bench`: workstations with GPU nodes, the
 * roster the election gives, Ray's node summary and job list as the head's dashboard serves
 * them (field names of ray 2.60), and a fake dashboard on loopback that counts its requests.
 */
import type { ClusterView, HeadTerm } from "../../src/election/state.ts";
import type { PageConfig } from "../../src/page/config.ts";
import { startLabServer, type LabServer } from "../../src/page/server.ts";

export interface LabSize {
  workstations: number;
  gpusPerNode: number;
  jobs: number;
  running: number;
}

export const bigLab: LabSize = { workstations: 20, gpusPerNode: 8, jobs: 500, running: 40 };

export const t0 = Date.UTC(2026, 11, 4, 9, 0, 0);

export const ws = (i: number) => `ws${String(i + 1).padStart(2, "0")}`;
export const ipOf = (i: number) => `10.1.0.${i + 11}`;

/** The roster: ray-gpu on ws01 is head; the other ray-gpu nodes and every ray-cpu node are workers. */
export function labRoster(size: LabSize): ClusterView {
  const gpuWorkers = Array.from({ length: size.workstations - 1 }, (_, k) => ({
    node: `ray-gpu.${ws(k + 1)}`,
    host: ws(k + 1),
    address: ipOf(k + 1),
    term: 3,
    joinedAt: t0 + 5000 + k,
    ageMs: 1000,
  }));
  const cpuWorkers = Array.from({ length: size.workstations }, (_, k) => ({
    node: `ray-cpu.${ws(k)}`,
    host: ws(k),
    address: ipOf(k),
    term: 3,
    joinedAt: t0 + 9000,
    ageMs: 900,
  }));
  return {
    term: 3,
    head: {
      node: `ray-gpu.${ws(0)}`,
      host: ws(0),
      address: `${ipOf(0)}:6380`,
      term: 3,
      ready: true,
      since: new Date(t0).toISOString(),
      leaseRemainingMs: 25_000,
    },
    workers: [...gpuWorkers, ...cpuWorkers],
  };
}

export function labHistory(): HeadTerm[] {
  return [
    { term: 1, node: "ray-cpu.ws01", host: "ws01", start: t0 - 7200_000, end: t0 - 3600_000 },
    { term: 2, node: "ray-gpu.ws02", host: "ws02", start: t0 - 3590_000, end: t0 - 20_000 },
    { term: 3, node: "ray-gpu.ws01", host: "ws01", start: t0, end: null },
  ];
}

const jobHex = (j: number) => (j + 1).toString(16).padStart(8, "0");
/** The pid of the Ray worker process of job j that holds a GPU. */
const pidOf = (j: number) => 10_000 + j;

/** GET /nodes?view=summary as Ray 2.60 answers it. Running job j holds GPU j % gpus of node j % workstations. */
export function labNodeSummary(size: LabSize, utilization: (node: number, gpu: number) => number = (n, g) => ((n + g) % 3 === 0 ? 0 : 85)): unknown {
  const summary = Array.from({ length: size.workstations }, (_, n) => {
    const held = Array.from({ length: size.running }, (_, j) => j).filter((j) => j % size.workstations === n);
    const gpus = Array.from({ length: size.gpusPerNode }, (_, g) => {
      const job = held.find((j) => Math.floor(j / size.workstations) % size.gpusPerNode === g);
      return {
        index: g,
        name: "NVIDIA RTX A6000",
        uuid: `GPU-${n}-${g}`,
        utilizationGpu: job === undefined ? 0 : utilization(n, g),
        memoryUsed: job === undefined ? 3 : 20_000,
        memoryTotal: 49_140,
        processesPids: job === undefined ? [] : [{ pid: pidOf(job), gpuMemoryUsage: 19_900 }],
      };
    });
    return {
      now: t0 / 1000,
      hostname: ws(n),
      ip: ipOf(n),
      cpu: 30,
      cpus: [32, 16],
      mem: [270_000_000_000, 200_000_000_000, 25.9, 70_000_000_000],
      gpus,
      workers: held.map((j) => ({ pid: pidOf(j), coreWorkerStats: [{ jobId: jobHex(j), workerType: "WORKER" }] })),
      raylet: { nodeId: `node${n}`, state: "ALIVE", isHeadNode: n === 0, resourcesTotal: { CPU: 32, GPU: size.gpusPerNode, memory: 2e11 } },
    };
  });
  // Each workstation's ray-cpu node: same IP (host networking), no GPUs.
  const cpuNodes = Array.from({ length: size.workstations }, (_, n) => ({
    hostname: ws(n),
    ip: ipOf(n),
    cpus: [8, 8],
    mem: [34_000_000_000, 30_000_000_000, 11.7, 4_000_000_000],
    gpus: [],
    workers: [],
    raylet: { nodeId: `cpu${n}`, state: "ALIVE", isHeadNode: false, resourcesTotal: { CPU: 8, memory: 3e10 } },
  }));
  return { result: true, msg: "Node summary fetched.", data: { summary: [...cpuNodes, ...summary] } };
}

/** GET /api/jobs/ as Ray 2.60 answers it: the first `running` jobs run, the rest ended. */
export function labJobs(size: LabSize): Record<string, unknown>[] {
  return Array.from({ length: size.jobs }, (_, j) => {
    const running = j < size.running;
    const start = t0 + 60_000 * j;
    return {
      type: "SUBMISSION",
      job_id: jobHex(j),
      submission_id: `raysubmit_job${String(j).padStart(4, "0")}`,
      driver_info: { id: jobHex(j), node_ip_address: ipOf(j % size.workstations), pid: String(pidOf(j) - 1) },
      status: running ? "RUNNING" : j % 7 === 0 ? "FAILED" : "SUCCEEDED",
      entrypoint: `python train.py --lr 0.0${(j % 9) + 1} --seed ${j}`,
      message: null,
      error_type: null,
      start_time: start,
      end_time: running ? null : start + 600_000,
      metadata: {
        cslr_user: ["ana", "ben", "chen"][j % 3]!,
        cslr_host: ws(j % size.workstations),
        cslr_working_dir: "/home/ana/exp",
        cslr_version: "0.1.0",
        cslr_git_commit: "3f2a9c1e5b7d4a8f9e0c1b2a3d4e5f6a7b8c9d0e",
        cslr_git_dirty: String(j % 5 === 0),
      },
      runtime_env: { working_dir: "gcs://_ray_pkg_abc.zip", env_vars: { MLFLOW_EXPERIMENT_NAME: "lab" } },
      entrypoint_num_gpus: 1,
    };
  });
}

export interface FakeDashboard {
  url: string;
  requests: Map<string, number>;
  stopped: string[];
  setJobs(jobs: Record<string, unknown>[]): void;
  stop(): Promise<void>;
}

/**
 * Ray's head dashboard as far as the page asks it, on loopback; requires `token` when given.
 * `headIp` replaces the first workstation's address (a head on loopback, for an in-process lab).
 */
export function fakeDashboard(size: LabSize, token?: string, headIp?: string): FakeDashboard {
  const requests = new Map<string, number>();
  const stopped: string[] = [];
  let jobs = labJobs(size);
  const nodes = headIp ? JSON.parse(JSON.stringify(labNodeSummary(size)).replaceAll(`"${ipOf(0)}"`, JSON.stringify(headIp))) : labNodeSummary(size);
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      const key = url.pathname.replace(/raysubmit_\w+/, "ID");
      requests.set(key, (requests.get(key) ?? 0) + 1);
      if (token && req.headers.get("authorization") !== `Bearer ${token}`) return new Response("no", { status: 401 });
      if (url.pathname === "/api/version") return Response.json({ version: "4", ray_version: "2.60.0", ray_commit: "x" });
      if (url.pathname === "/nodes" && url.searchParams.get("view") === "summary") return Response.json(nodes);
      if (url.pathname === "/api/jobs/") return Response.json(jobs);
      const logs = /^\/api\/jobs\/(raysubmit_\w+)\/logs$/.exec(url.pathname);
      if (logs) return Response.json({ logs: `starting ${logs[1]}\nepoch 1 loss 0.9\nepoch 2 loss 0.5\n<script>alert(1)</script>\n` });
      const stop = /^\/api\/jobs\/(raysubmit_\w+)\/stop$/.exec(url.pathname);
      if (stop && req.method === "POST") {
        stopped.push(stop[1]!);
        return Response.json({ stopped: true });
      }
      return new Response("not found", { status: 404 });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    stopped,
    setJobs: (next) => (jobs = next),
    stop: () => server.stop(true),
  };
}

/** What a page test or bench chooses of the page: the rest is the fake dashboard's port. */
export interface LabPage {
  project: string;
  services?: PageConfig["services"];
  joinLine?: string;
  rayToken?: string;
}

/** The election service with its page on loopback (whitelist ray-gpu, TTL 30 s), the page reading `ray`'s dashboard. */
export function startLabServerFor(ray: FakeDashboard, token: string, page: LabPage): LabServer {
  const config: PageConfig = {
    version: 1,
    project: page.project,
    dashboardPorts: { "ray-gpu": Number(new URL(ray.url).port) },
    services: page.services ?? [],
    ...(page.joinLine ? { joinLine: page.joinLine } : {}),
  };
  return startLabServer({
    host: "127.0.0.1",
    port: 0,
    whitelist: ["ray-gpu"],
    leaseTtlMs: 30_000,
    token,
    log: () => {},
    page: { config, ...(page.rayToken ? { rayToken: page.rayToken } : {}) },
  });
}
