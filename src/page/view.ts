/**
 * The lab page's data (pure): the election's roster and head history, Ray's per-node figures,
 * the head's jobs and the services' health → what the template shows. Every label is text
 * (state words, not only colours); times are UTC; nothing here fetches or renders HTML.
 */
import { hostOfNode, serviceOf } from "../config/names.ts";
import { hostOf } from "../config/net.ts";
import type { ClusterView, HeadTerm } from "../election/state.ts";
import { formatDuration } from "../jobs/answers.ts";
import type { RayNodeStat } from "./ray-nodes.ts";
import type { PageJob } from "./jobs.ts";

/** A GPU below this utilisation (percent) counts as doing nothing. */
export const busyPercent = 10;
/** A GPU a job holds that has done nothing for this long is called out. */
export const heldIdleAfterMs = 5 * 60_000;

export interface ServiceHealth {
  name: string;
  state: "up" | "down" | "unknown";
  detail: string;
  link?: string;
}

export interface PageInputs {
  /** Wall-clock ms. */
  now: number;
  cluster: ClusterView;
  leaseTtlMs: number;
  history: HeadTerm[];
  /** Ray's nodes, or why they are not known. */
  ray: { nodes: RayNodeStat[]; version?: string } | { error: string };
  jobs: { list: PageJob[] } | { error: string };
  /** Wall-clock ms each GPU (`ip/index`) was last seen busy (or first seen). */
  gpuLastBusy: ReadonlyMap<string, number>;
  services: ServiceHealth[];
  joinLine?: string;
  project: string;
}

export type GpuState = "busy" | "idle" | "held-idle" | "in use";

export interface GpuView {
  label: string;
  model: string;
  utilization: string;
  memory: string;
  state: GpuState;
  job?: string;
}

export interface NodeView {
  node: string;
  role: "head" | "worker";
  term: number;
  since: string;
  address: string;
  rayVersion: string;
  cpus: string;
  memory: string;
  rayState: string;
  gpus: GpuView[];
}

export interface WorkstationView {
  name: string;
  nodes: NodeView[];
}

export interface JobView {
  id: string;
  status: string;
  active: boolean;
  user: string;
  host: string;
  commit: string;
  entrypoint: string;
  started: string;
  duration: string;
  gpus: string;
  mlflowUrl?: string;
  logTail: string[];
  warning?: string;
}

export interface HistoryView {
  term: number;
  node: string;
  start: string;
  end: string;
  held: string;
  /** How long the cluster had no head before this term began. */
  gapBefore: string;
}

export interface Callout {
  kind: "idle" | "held-idle";
  text: string;
}

export interface PageView {
  project: string;
  updated: string;
  head: { node: string; host: string; term: number; state: string; since: string; lease: string } | null;
  workstations: WorkstationView[];
  jobs: JobView[];
  jobsError?: string;
  rayError?: string;
  jobCounts: string;
  history: HistoryView[];
  services: ServiceHealth[];
  callouts: Callout[];
  gpuSummary: string;
  joinLine?: string;
}

export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** `ip/index`: how a GPU is known across refreshes. */
export function gpuKey(ip: string, index: number): string {
  return `${ip}/${index}`;
}

function workstationOf(node: string, host: string | undefined): string {
  return host ?? hostOfNode(node) ?? "this workstation";
}

/**
 * The Ray node a roster member is: same IP (or, in bridge networking, same hostname). With host
 * networking a workstation's nodes share its IP: the ray-gpu node is the one with GPUs, the
 * others take those without. Each Ray node is taken once (`taken`).
 */
function rayNodeOf(nodes: RayNodeStat[], member: { node: string; address: string }, taken: Set<RayNodeStat>): RayNodeStat | undefined {
  const ip = hostOf(member.address);
  const candidates = nodes.filter((n) => n.alive && !taken.has(n) && (n.ip === ip || n.hostname === member.node));
  const wantsGpus = serviceOf(member.node) === "ray-gpu";
  const found = candidates.find((n) => n.gpus.length > 0 === wantsGpus) ?? candidates[0];
  if (found) taken.add(found);
  return found;
}

function gpuViews(stat: RayNodeStat | undefined, jobsById: Map<string, PageJob>, inputs: PageInputs): GpuView[] {
  if (!stat) return [];
  return stat.gpus.map((g) => {
    const rayJob = g.pids.map((pid) => stat.jobOfPid.get(pid)).find((id) => id !== undefined);
    const job = rayJob ? jobsById.get(rayJob) : undefined;
    const busy = (g.utilization ?? 0) >= busyPercent;
    const lastBusy = inputs.gpuLastBusy.get(gpuKey(stat.ip, g.index)) ?? inputs.now;
    const held = g.pids.length > 0;
    const state: GpuState = busy ? "busy" : !held ? "idle" : inputs.now - lastBusy >= heldIdleAfterMs ? "held-idle" : "in use";
    return {
      label: `GPU ${g.index}`,
      model: g.name,
      utilization: g.utilization === null ? "n/a" : `${g.utilization}%`,
      memory: `${formatBytes(g.memoryUsedMiB * 1024 * 1024)} of ${formatBytes(g.memoryTotalMiB * 1024 * 1024)}`,
      state,
      ...(job ? { job: job.submissionId } : held ? { job: "another process" } : {}),
    };
  });
}

interface RosterEntry {
  node: string;
  host?: string;
  address: string;
  term: number;
  role: "head" | "worker";
  since: number;
}

function rosterEntries(cluster: ClusterView): RosterEntry[] {
  const head = cluster.head;
  const entries: RosterEntry[] = head
    ? [{ node: head.node, host: head.host, address: head.address, term: head.term, role: "head", since: Date.parse(head.since) }]
    : [];
  for (const w of cluster.workers) entries.push({ node: w.node, host: w.host, address: w.address, term: w.term, role: "worker", since: w.joinedAt });
  return entries;
}

function workstations(inputs: PageInputs, jobsById: Map<string, PageJob>): WorkstationView[] {
  const rayNodes = "nodes" in inputs.ray ? inputs.ray.nodes : [];
  const version = "nodes" in inputs.ray ? (inputs.ray.version ?? "unknown") : "unknown";
  const byHost = new Map<string, NodeView[]>();
  const taken = new Set<RayNodeStat>();
  for (const entry of rosterEntries(inputs.cluster)) {
    const stat = rayNodeOf(rayNodes, entry, taken);
    const view: NodeView = {
      node: entry.node,
      role: entry.role,
      term: entry.term,
      since: formatTime(entry.since),
      address: entry.address,
      rayVersion: stat ? version : "not in Ray",
      cpus: stat?.cpus != null ? String(stat.cpus) : "n/a",
      memory: stat?.memoryTotalBytes != null ? `${formatBytes(stat.memoryUsedBytes ?? 0)} of ${formatBytes(stat.memoryTotalBytes)}` : "n/a",
      rayState: stat ? (stat.alive ? "alive" : "dead") : "not reported",
      gpus: gpuViews(stat, jobsById, inputs),
    };
    const host = workstationOf(entry.node, entry.host);
    byHost.set(host, [...(byHost.get(host) ?? []), view]);
  }
  return [...byHost].map(([name, nodes]) => ({ name, nodes })).sort((a, b) => a.name.localeCompare(b.name));
}

function jobViews(jobs: PageJob[], inputs: PageInputs, heldIdleJobs: Set<string>): JobView[] {
  const order = (j: PageJob) => (j.status === "RUNNING" ? 0 : j.status === "PENDING" ? 1 : 2);
  return [...jobs]
    .sort((a, b) => order(a) - order(b) || (b.startTime ?? 0) - (a.startTime ?? 0))
    .map((j) => {
      const active = j.status === "RUNNING" || j.status === "PENDING";
      const end = j.endTime ?? inputs.now;
      return {
        id: j.submissionId,
        status: j.status,
        active,
        user: j.user ?? "unknown",
        host: j.host ?? "unknown",
        commit: j.commit ? `${j.commit.slice(0, 10)}${j.dirty ? " (with changes)" : ""}` : "none",
        entrypoint: j.entrypoint.length > 300 ? `${j.entrypoint.slice(0, 299)}…` : j.entrypoint,
        started: j.startTime ? formatTime(j.startTime) : "not yet",
        duration: j.startTime ? formatDuration(end - j.startTime) : "",
        gpus: j.gpus ? String(j.gpus) : "0",
        ...(j.mlflowUrl ? { mlflowUrl: j.mlflowUrl } : {}),
        logTail: j.logTail,
        ...(heldIdleJobs.has(j.submissionId) ? { warning: `holds a GPU that has done nothing for ${formatDuration(heldIdleAfterMs)} or more` } : {}),
      };
    });
}

function historyViews(history: HeadTerm[], now: number): HistoryView[] {
  return history
    .map((h, i) => {
      const previous = history[i - 1];
      const gap = previous?.end != null ? Math.max(0, h.start - previous.end) : undefined;
      return {
        term: h.term,
        node: h.node,
        start: formatTime(h.start),
        end: h.end === null ? "holds the lease" : formatTime(h.end),
        held: formatDuration((h.end ?? now) - h.start),
        gapBefore: gap === undefined ? "n/a" : formatDuration(gap),
      };
    })
    .reverse();
}

/** Idle GPUs (one line per node) and GPUs a job holds without using them (one line each). */
function callouts(ws: WorkstationView[]): { list: Callout[]; heldIdleJobs: Set<string>; summary: string } {
  const list: Callout[] = [];
  const heldIdleJobs = new Set<string>();
  let total = 0;
  let busy = 0;
  let idle = 0;
  for (const w of ws)
    for (const n of w.nodes) {
      total += n.gpus.length;
      busy += n.gpus.filter((g) => g.state === "busy").length;
      const idleHere = n.gpus.filter((g) => g.state === "idle");
      idle += idleHere.length;
      if (idleHere.length > 0)
        list.push({
          kind: "idle",
          text: `${n.node}: ${idleHere.length === 1 ? idleHere[0]!.label : `GPUs ${idleHere.map((g) => g.label.slice(4)).join(", ")}`} idle (no process)`,
        });
      for (const g of n.gpus.filter((g) => g.state === "held-idle")) {
        list.push({
          kind: "held-idle",
          text: `${g.label} on ${n.node} is held by ${g.job} but has done nothing for ${formatDuration(heldIdleAfterMs)} or more`,
        });
        if (g.job) heldIdleJobs.add(g.job);
      }
    }
  list.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "held-idle" ? -1 : 1));
  const idleLines = list.filter((c) => c.kind === "idle");
  if (idleLines.length > 5) {
    const perNode = idleLines.map((c) => c.text.replace(/: (GPUs? [\d, ]+?) idle.*$/, (_m, gpus: string) => ` (${gpus.replace(/^GPUs? /, "")})`));
    list.splice(list.indexOf(idleLines[0]!), idleLines.length, {
      kind: "idle",
      text: `${idle} idle GPUs (no process) on ${idleLines.length} nodes: ${perNode.join("; ")}`,
    });
  }
  return { list, heldIdleJobs, summary: total === 0 ? "no GPUs reported" : `${total} GPUs: ${busy} busy, ${idle} idle, ${total - busy - idle} held` };
}

function jobCounts(jobs: PageJob[]): string {
  const counts = new Map<string, number>();
  for (const j of jobs) counts.set(j.status, (counts.get(j.status) ?? 0) + 1);
  const parts = ["RUNNING", "PENDING", "SUCCEEDED", "FAILED", "STOPPED"].filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${s.toLowerCase()}`);
  return parts.length > 0 ? parts.join(", ") : "no jobs";
}

export function buildPageView(inputs: PageInputs): PageView {
  const jobs = "list" in inputs.jobs ? inputs.jobs.list : [];
  const byRayId = new Map(jobs.filter((j) => j.jobId).map((j) => [j.jobId!, j]));
  const ws = workstations(inputs, byRayId);
  const flagged = callouts(ws);
  const head = inputs.cluster.head;
  return {
    project: inputs.project,
    updated: formatTime(inputs.now),
    head: head && {
      node: head.node,
      host: workstationOf(head.node, head.host),
      term: head.term,
      state: head.ready ? "ready" : "starting",
      since: formatTime(Date.parse(head.since)),
      lease: `${formatDuration(head.leaseRemainingMs)} left of ${formatDuration(inputs.leaseTtlMs)}`,
    },
    workstations: ws,
    jobs: jobViews(jobs, inputs, flagged.heldIdleJobs),
    ...("error" in inputs.jobs ? { jobsError: inputs.jobs.error } : {}),
    ...("error" in inputs.ray ? { rayError: inputs.ray.error } : {}),
    jobCounts: jobCounts(jobs),
    history: historyViews(inputs.history, inputs.now),
    services: inputs.services,
    callouts: flagged.list,
    gpuSummary: flagged.summary,
    ...(inputs.joinLine ? { joinLine: inputs.joinLine } : {}),
  };
}
