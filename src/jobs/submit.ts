/**
 * The body of `POST /api/jobs/` for `cslr run` (pure): entrypoint, submission id, runtime_env
 * (working_dir + env_vars), metadata and entrypoint resources.
 */
import type { JobSubmitRequest } from "./spec.ts";

/**
 * Ray generates ids as `raysubmit_` + 16 characters from letters and digits without the easily
 * confused I, l, o, O and 0 (job_manager.py generate_job_id). cslr picks the id itself, with
 * the `--name` prefix, so it knows the id before the head answers: a Ctrl-C during submission
 * can still stop the job.
 */
export const submissionIdAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz123456789";
export const defaultNamePrefix = "raysubmit";

export function newSubmissionId(prefix: string, random: (length: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n))): string {
  const alphabet = submissionIdAlphabet;
  let id = "";
  // Rejection sampling keeps every character equally likely.
  const limit = 256 - (256 % alphabet.length);
  while (id.length < 16) {
    for (const byte of random(32)) {
      if (byte < limit && id.length < 16) id += alphabet[byte % alphabet.length];
    }
  }
  return `${prefix}_${id}`;
}

/**
 * POSIX shell quoting, as Python's shlex.quote: `ray job submit -- CMD...` joins its arguments
 * with shlex.join (job/cli.py) and Ray runs the entrypoint with `shell=True`
 * (job_supervisor.py), so each word must reach the job as the user typed it.
 */
export function shellQuote(word: string): string {
  if (word === "") return "''";
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'"'"'`)}'`;
}

export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(" ");
}

export interface GitInfo {
  commit: string;
  /** Uncommitted changes to tracked files. */
  dirty: boolean;
}

export interface SubmitPlan {
  command: readonly string[];
  submissionId: string;
  /** `gcs://_ray_pkg_<sha256>.zip`. */
  workingDirUri: string;
  mlflowTrackingUri?: string;
  experiment: string;
  /** `--env K=V` pairs in order; a later one wins, and they win over the MLflow defaults. */
  env: readonly (readonly [string, string])[];
  cpus?: number;
  gpus?: number;
  memoryBytes?: number;
  /** The driver's label selector (placement.ts): undefined lets Ray put it on the head. */
  driverSelector?: Record<string, string>;
  /** Who submitted, from where. */
  origin: { user: string; host: string; workingDir: string; cslrVersion: string };
  git?: GitInfo;
}

/**
 * The MLflow tag that names the Ray job a run belongs to: MLflow puts the tags of
 * MLFLOW_RUN_CONTEXT (JSON) on every run started in that environment, so the coordinator can end
 * the runs a dead driver left RUNNING (src/page/mlflow.ts endRunsOfEndedJob).
 */
export const mlflowJobTag = "cslr_job";

/** The job's environment: MLflow's tracking URI, experiment and run tags, then the user's `--env` pairs. */
export function jobEnv(plan: Pick<SubmitPlan, "mlflowTrackingUri" | "experiment" | "env" | "submissionId">): Record<string, string> {
  const env: Record<string, string> = {};
  if (plan.mlflowTrackingUri) env.MLFLOW_TRACKING_URI = plan.mlflowTrackingUri;
  env.MLFLOW_EXPERIMENT_NAME = plan.experiment;
  env.MLFLOW_RUN_CONTEXT = JSON.stringify({ [mlflowJobTag]: plan.submissionId });
  for (const [key, value] of plan.env) env[key] = value;
  return env;
}

/**
 * Metadata stored with the job (string → string). Keys are prefixed `cslr_`: Ray's supervisor
 * merges user metadata over its own `job_submission_id` and `job_name` keys
 * (job_supervisor.py), and overwriting `job_submission_id` would detach the driver from its job.
 * `ray job submit` itself sends `{}` unless given --metadata-json.
 */
export function jobMetadata(plan: Pick<SubmitPlan, "origin" | "git">): Record<string, string> {
  const metadata: Record<string, string> = {
    cslr_user: plan.origin.user,
    cslr_host: plan.origin.host,
    cslr_working_dir: plan.origin.workingDir,
    cslr_version: plan.origin.cslrVersion,
  };
  if (plan.git) {
    metadata.cslr_git_commit = plan.git.commit;
    metadata.cslr_git_dirty = String(plan.git.dirty);
  }
  return metadata;
}

/** The request body. Optional resources are left out, not sent as null. */
export function buildSubmitRequest(plan: SubmitPlan): JobSubmitRequest {
  const request: JobSubmitRequest = {
    entrypoint: shellJoin(plan.command),
    submission_id: plan.submissionId,
    runtime_env: { working_dir: plan.workingDirUri, env_vars: jobEnv(plan) },
    metadata: jobMetadata(plan),
  };
  if (plan.cpus !== undefined) request.entrypoint_num_cpus = plan.cpus;
  if (plan.gpus !== undefined) request.entrypoint_num_gpus = plan.gpus;
  if (plan.memoryBytes !== undefined) request.entrypoint_memory = plan.memoryBytes;
  if (plan.driverSelector !== undefined) request.entrypoint_label_selector = plan.driverSelector;
  return request;
}
