/**
 * What the lab page shows, fetched by the coordinator and cached: one refresh per interval
 * whatever the number of viewers, and none while nobody looks (the loop stops a minute after
 * the last view). Per refresh: the head's job list and its node summary (two GETs, the calls
 * Ray's own dashboard makes), a few log tails of running jobs, a few MLflow look-ups of runs
 * not yet found, and the services' checks every few seconds. Every answer from the network is
 * parsed against a schema; a failure is shown on the page as one line, never thrown.
 */
import { serviceOf } from "../config/names.ts";
import type { ElectionService } from "../election/service.ts";
import { dial } from "../host/ports.ts";
import { JobsClient, type Fetch } from "../jobs/client.ts";
import { dashboardUrl } from "../jobs/target.ts";
import { defaultDashboardPort, type PageConfig } from "./config.ts";
import { lastLines, pageJobOf, type PageJob } from "./jobs.ts";
import { endRunsOfEndedJob, findMlflowRun } from "./mlflow.ts";
import { nodeStats, nodeSummarySchema, type RayNodeStat } from "./ray-nodes.ts";
import { busyPercent, gpuKey, type PageInputs, type ServiceHealth } from "./view.ts";

export interface CollectorOptions {
  service: ElectionService;
  config: PageConfig;
  /** Ray's token when the cluster uses token authentication. */
  rayToken?: string;
  fetch?: Fetch;
  wallNow?: () => number;
  intervalMs?: number;
}

const logEveryMs = 3000;
const mlflowEveryMs = 5000;
const servicesEveryMs = 5000;
const perRefresh = 4;
const viewerTimeoutMs = 60_000;
const reapEveryMs = 30_000;

export class PageCollector {
  private ray: PageInputs["ray"] = { error: "not asked yet" };
  private jobs: PageInputs["jobs"] = { error: "not asked yet" };
  private services: ServiceHealth[];
  private readonly gpuLastBusy = new Map<string, number>();
  private readonly logs = new Map<string, { lines: string[]; at: number; final: boolean }>();
  private readonly mlflowRuns = new Map<string, { url?: string; at: number }>();
  private rayVersion: { url: string; version: string } | undefined;
  private servicesAt = 0;
  private lastViewed = Number.NEGATIVE_INFINITY;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private reaper: ReturnType<typeof setInterval> | undefined;
  /** FAILED/STOPPED jobs whose MLflow runs were settled. */
  private readonly reaped = new Set<string>();
  private running: Promise<void> | undefined;
  private readonly fetchImpl: Fetch;
  private readonly wallNow: () => number;
  readonly intervalMs: number;
  /** Refreshes done (tests count them: many viewers, one refresh per interval). */
  refreshes = 0;

  constructor(private readonly options: CollectorOptions) {
    this.fetchImpl = options.fetch ?? fetch;
    this.wallNow = options.wallNow ?? Date.now;
    this.intervalMs = options.intervalMs ?? 1000;
    this.services = options.config.services.map((s) => ({ name: s.name, state: "unknown", detail: "not checked yet", ...(s.link ? { link: s.link } : {}) }));
  }

  /** A viewer asked: keeps the loop running, and waits for the first refresh when there was none. */
  async touch(): Promise<void> {
    this.lastViewed = this.wallNow();
    if (this.timer === undefined && this.running === undefined) await this.tick();
    else if (this.refreshes === 0) await this.running;
  }

  stop(): void {
    clearTimeout(this.timer);
    clearInterval(this.reaper);
    this.timer = undefined;
    this.reaper = undefined;
    this.lastViewed = Number.NEGATIVE_INFINITY;
  }

  /**
   * Whether or not anyone looks at the page: every `everyMs`, the MLflow runs that FAILED or
   * STOPPED jobs left RUNNING (a driver lost with its node never ends its run) are ended.
   */
  startReaper(everyMs = reapEveryMs): void {
    this.reaper ??= setInterval(() => void this.reap(), everyMs);
    this.reaper.unref?.();
  }

  /** One pass of the reaper; how many runs it ended. A job is done once MLflow answered for it. */
  async reap(): Promise<number> {
    const mlflow = this.options.config.mlflow;
    const url = this.dashboard();
    if (!mlflow || !url) return 0;
    const client = new JobsClient({ url, token: this.options.rayToken, fetch: this.fetchImpl, timeoutMs: 3000, userAgent: "cslr-page" });
    const list = await client.list().then(
      (jobs) => jobs.map(pageJobOf).filter((j) => j !== undefined),
      () => [],
    );
    let ended = 0;
    for (const job of list.filter((j) => (j.status === "FAILED" || j.status === "STOPPED") && !this.reaped.has(j.submissionId))) {
      try {
        ended += await endRunsOfEndedJob(mlflow, job, this.fetchImpl);
        if (this.reaped.size >= 10_000) this.reaped.clear();
        this.reaped.add(job.submissionId);
      } catch {
        // MLflow did not answer: the next pass asks again.
      }
    }
    return ended;
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    this.running = this.refresh().finally(() => (this.running = undefined));
    await this.running;
    if (this.wallNow() - this.lastViewed < viewerTimeoutMs) {
      this.timer = setTimeout(() => void this.tick(), this.intervalMs);
      this.timer.unref?.();
    }
  }

  /** The head's dashboard, when a head is ready. */
  private dashboard(): string | undefined {
    const head = this.options.service.cluster().head;
    if (!head?.ready) return undefined;
    const port = this.options.config.dashboardPorts[serviceOf(head.node)] ?? defaultDashboardPort;
    return dashboardUrl(head.address, port);
  }

  async refresh(): Promise<void> {
    const url = this.dashboard();
    const now = this.wallNow();
    const work: Promise<unknown>[] = [];
    if (now - this.servicesAt >= servicesEveryMs) {
      this.servicesAt = now;
      work.push(this.checkServices());
    }
    if (!url) {
      this.ray = { error: "no ready head: Ray's figures and jobs appear once a head is elected and ready" };
      this.jobs = { error: "no ready head" };
    } else {
      const client = new JobsClient({ url, token: this.options.rayToken, fetch: this.fetchImpl, timeoutMs: 3000, userAgent: "cslr-page" });
      work.push(this.refreshRay(client, url), this.refreshJobs(client));
    }
    await Promise.all(work);
    this.refreshes += 1;
  }

  private async refreshRay(client: JobsClient, url: string): Promise<void> {
    try {
      if (this.rayVersion?.url !== url) this.rayVersion = { url, version: (await client.version()).ray_version };
      const nodes = nodeStats(await client.nodeSummary(nodeSummarySchema));
      this.noteGpuActivity(nodes);
      this.ray = { nodes, version: this.rayVersion.version };
    } catch (error) {
      this.ray = { error: (error as Error).message.split("\n")[0]! };
    }
  }

  private noteGpuActivity(nodes: RayNodeStat[]): void {
    const now = this.wallNow();
    for (const n of nodes)
      for (const g of n.gpus) {
        const key = gpuKey(n.ip, g.index);
        if ((g.utilization ?? 0) >= busyPercent || !this.gpuLastBusy.has(key) || g.pids.length === 0) this.gpuLastBusy.set(key, now);
      }
  }

  private async refreshJobs(client: JobsClient): Promise<void> {
    let list: PageJob[];
    try {
      list = (await client.list()).map(pageJobOf).filter((j) => j !== undefined);
    } catch (error) {
      this.jobs = { error: (error as Error).message.split("\n")[0]! };
      return;
    }
    await Promise.all([this.refreshLogs(client, list), this.refreshMlflow(list)]);
    for (const job of list) {
      job.logTail = this.logs.get(job.submissionId)?.lines ?? [];
      const run = this.mlflowRuns.get(job.submissionId)?.url;
      if (run) job.mlflowUrl = run;
    }
    this.jobs = { list };
  }

  /** Tails of running jobs (and a last one when a job ends), a few per refresh, each at most every few seconds. */
  private async refreshLogs(client: JobsClient, list: PageJob[]): Promise<void> {
    const now = this.wallNow();
    const due = list
      .filter((j) => {
        const seen = this.logs.get(j.submissionId);
        return !seen?.final && (!seen || now - seen.at >= logEveryMs) && j.status !== "PENDING";
      })
      .sort((a, b) => (this.logs.get(a.submissionId)?.at ?? 0) - (this.logs.get(b.submissionId)?.at ?? 0))
      .slice(0, perRefresh);
    await Promise.all(
      due.map(async (j) => {
        try {
          const text = await client.logs(j.submissionId);
          this.logs.set(j.submissionId, { lines: lastLines(text), at: now, final: j.status !== "RUNNING" });
        } catch {
          this.logs.set(j.submissionId, { lines: this.logs.get(j.submissionId)?.lines ?? [], at: now, final: false });
        }
      }),
    );
  }

  private async refreshMlflow(list: PageJob[]): Promise<void> {
    const mlflow = this.options.config.mlflow;
    if (!mlflow) return;
    const now = this.wallNow();
    const due = list
      .filter((j) => j.experiment && j.startTime && j.status !== "PENDING")
      .filter((j) => {
        const seen = this.mlflowRuns.get(j.submissionId);
        return !seen?.url && (!seen || now - seen.at >= mlflowEveryMs);
      })
      .slice(0, perRefresh);
    await Promise.all(
      due.map(async (j) => {
        const url = await findMlflowRun(mlflow, j, this.fetchImpl).catch(() => undefined);
        this.mlflowRuns.set(j.submissionId, { url, at: now });
      }),
    );
  }

  private async checkServices(): Promise<void> {
    this.services = await Promise.all(
      this.options.config.services.map(async (s): Promise<ServiceHealth> => {
        const base = { name: s.name, ...(s.link ? { link: s.link } : {}) };
        if ("tcp" in s.check) {
          const [host, port] = [s.check.tcp.replace(/:\d+$/, ""), Number(s.check.tcp.replace(/^.*:/, ""))];
          const result = await dial(host, port, 1500);
          return { ...base, state: result.reachable ? "up" : "down", detail: result.reachable ? `port ${port} answers` : result.error };
        }
        try {
          const response = await this.fetchImpl(s.check.http, { signal: AbortSignal.timeout(2000), redirect: "manual" });
          await response.body?.cancel();
          return { ...base, state: response.status < 400 ? "up" : "down", detail: `HTTP ${response.status}` };
        } catch (error) {
          return { ...base, state: "down", detail: (error as Error).message.split("\n")[0]! };
        }
      }),
    );
  }

  /** The page's inputs now: the roster and history live from the election, the rest from the cache. */
  inputs(): PageInputs {
    const { service, config } = this.options;
    return {
      now: this.wallNow(),
      cluster: service.cluster(),
      leaseTtlMs: service.election.ttlMs,
      history: service.election.headHistory(),
      ray: this.ray,
      jobs: this.jobs,
      gpuLastBusy: this.gpuLastBusy,
      services: this.services,
      project: config.project,
      ...(config.joinLine ? { joinLine: config.joinLine } : {}),
    };
  }

  /** Stops a job through the head's Jobs API; false when it had already ended. */
  async stopJob(id: string): Promise<boolean> {
    const url = this.dashboard();
    if (!url) throw new Error("no ready head to ask");
    return new JobsClient({ url, token: this.options.rayToken, fetch: this.fetchImpl, timeoutMs: 10_000, userAgent: "cslr-page" }).stop(id);
  }
}
