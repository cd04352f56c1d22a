/**
 * Ray's per-node figures as the head's dashboard serves them (`GET /nodes?view=summary`, the
 * call Ray's own dashboard polls; ray 2.60 dashboard/modules/node/node_head.py, reporter_agent.py
 * and reporter_models.py GpuUtilizationInfo). The reporter agent on each node reads its GPUs with
 * NVML, so every node's GPUs arrive in one answer from the head: the coordinator asks once per
 * interval, whatever the number of nodes or viewers. Pure: the schema and the mapping to what
 * the page uses; unknown fields pass, wrong types make the answer "not Ray's".
 */
import { z } from "zod";

const count = z.number().finite().nonnegative();

const gpuSchema = z.object({
  index: z.int().nonnegative(),
  name: z.string().max(200),
  utilizationGpu: count.max(100).nullish(),
  /** MiB. */
  memoryUsed: count,
  memoryTotal: count,
  processesPids: z
    .array(z.object({ pid: z.int().nonnegative(), gpuMemoryUsage: count.nullish() }))
    .max(4096)
    .nullish(),
});

const nodeSchema = z.object({
  hostname: z.string().max(253).nullish(),
  ip: z.string().max(64).nullish(),
  /** [logical, physical]. */
  cpus: z.array(count).max(2).nullish(),
  /** [total, available, percent, used], bytes. */
  mem: z.array(count).max(4).nullish(),
  gpus: z.array(gpuSchema).max(64).nullish(),
  /** Ray's worker processes: which job each serves (jobId hex), so a GPU's pids name its job. */
  workers: z
    .array(
      z.object({
        pid: z.int().nonnegative(),
        coreWorkerStats: z
          .array(z.object({ jobId: z.string().max(64).nullish() }))
          .max(64)
          .nullish(),
      }),
    )
    .max(100_000)
    .nullish(),
  raylet: z
    .object({
      nodeId: z.string().max(128).nullish(),
      state: z.string().max(32).nullish(),
      isHeadNode: z.boolean().nullish(),
      resourcesTotal: z.record(z.string(), z.number()).nullish(),
    })
    .nullish(),
});

export const nodeSummarySchema = z.object({ data: z.object({ summary: z.array(nodeSchema).max(10_000) }) });

export interface GpuStat {
  index: number;
  name: string;
  /** Percent, or null when the driver did not say. */
  utilization: number | null;
  memoryUsedMiB: number;
  memoryTotalMiB: number;
  pids: number[];
}

export interface RayNodeStat {
  ip: string;
  hostname: string;
  nodeId: string;
  alive: boolean;
  isHead: boolean;
  cpus: number | null;
  memoryTotalBytes: number | null;
  memoryUsedBytes: number | null;
  gpus: GpuStat[];
  /** pid → Ray job id (hex) of the worker processes on the node. */
  jobOfPid: Map<number, string>;
}

export type NodeSummary = z.output<typeof nodeSummarySchema>;

/** The nodes of an answer, or a one-line reason it is not one. */
export function parseNodeSummary(json: unknown): RayNodeStat[] | string {
  const parsed = nodeSummarySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return `Ray's node summary: ${issue.path.join(".") || "answer"}: ${issue.message}`;
  }
  return nodeStats(parsed.data);
}

/** What the page uses of a checked answer. */
export function nodeStats(summary: NodeSummary): RayNodeStat[] {
  return summary.data.summary.map((n) => ({
    ip: n.ip ?? "",
    hostname: n.hostname ?? "",
    nodeId: n.raylet?.nodeId ?? "",
    alive: (n.raylet?.state ?? "ALIVE") === "ALIVE",
    isHead: n.raylet?.isHeadNode ?? false,
    cpus: n.raylet?.resourcesTotal?.CPU ?? n.cpus?.[0] ?? null,
    memoryTotalBytes: n.mem?.[0] ?? null,
    memoryUsedBytes: n.mem?.[3] ?? null,
    gpus: (n.gpus ?? []).map((g) => ({
      index: g.index,
      name: g.name,
      utilization: g.utilizationGpu ?? null,
      memoryUsedMiB: g.memoryUsed,
      memoryTotalMiB: g.memoryTotal,
      pids: (g.processesPids ?? []).map((p) => p.pid),
    })),
    jobOfPid: new Map(
      (n.workers ?? []).flatMap((w) => {
        const job = w.coreWorkerStats?.find((s) => s.jobId)?.jobId;
        return job ? [[w.pid, job] as const] : [];
      }),
    ),
  }));
}
