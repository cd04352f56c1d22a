/**
 * A job as the page shows it (pure): Ray's job details with the metadata `cslr run` sets
 * (src/jobs/submit.ts jobMetadata), the last lines of its log and its MLflow run when found.
 */
import type { JobDetails } from "../jobs/spec.ts";

export interface PageJob {
  submissionId: string;
  /** Ray's job id (hex), what its worker processes report. */
  jobId?: string;
  status: JobDetails["status"];
  entrypoint: string;
  user?: string;
  host?: string;
  commit?: string;
  dirty: boolean;
  startTime?: number;
  endTime?: number;
  gpus: number;
  /** MLFLOW_EXPERIMENT_NAME `cslr run` gave the job. */
  experiment?: string;
  mlflowUrl?: string;
  logTail: string[];
}

/** Lines of a job's log the page shows. */
export const logTailLines = 6;

export function lastLines(log: string, count = logTailLines): string[] {
  const lines = log.replace(/\s+$/, "").split("\n");
  return lines
    .slice(-count)
    .map((l) => (l.length > 300 ? `${l.slice(0, 299)}…` : l))
    .filter((l, i, all) => l !== "" || all.length > 1);
}

function experimentOf(details: JobDetails): string | undefined {
  const env = (details.runtime_env as { env_vars?: unknown } | null | undefined)?.env_vars;
  const name = env && typeof env === "object" ? (env as Record<string, unknown>).MLFLOW_EXPERIMENT_NAME : undefined;
  return typeof name === "string" && name.length <= 500 ? name : undefined;
}

export function pageJobOf(details: JobDetails): PageJob | undefined {
  const id = details.submission_id ?? undefined;
  if (!id) return undefined;
  const meta = details.metadata ?? {};
  return {
    submissionId: id,
    ...(details.job_id ? { jobId: details.job_id } : {}),
    status: details.status,
    entrypoint: details.entrypoint,
    user: meta.cslr_user,
    host: meta.cslr_host,
    commit: meta.cslr_git_commit,
    dirty: meta.cslr_git_dirty === "true",
    startTime: details.start_time ?? undefined,
    endTime: details.end_time ?? undefined,
    gpus: details.entrypoint_num_gpus ?? 0,
    experiment: experimentOf(details),
    logTail: [],
  };
}
