/**
 * The part of Ray's Jobs REST API that cslr speaks, as Ray 2.60 serves it, with zod schemas for
 * every answer cslr reads. Sources (read, not copied):
 *  - Ray's OpenAPI spec, doc/source/cluster/running-applications/job-submission/openapi.yml
 *    ("Ray Jobs API" 4.0.0);
 *  - ray 2.60.0 wheel: dashboard/modules/job/job_head.py (routes, status codes),
 *    common.py (JobSubmitRequest, JobSubmitResponse, JobStopResponse, JobLogsResponse,
 *    JobStatus), pydantic_models.py (JobDetails, DriverInfo), sdk.py and dashboard_sdk.py (what
 *    the Python SDK sends), modules/version.py (GET /api/version, CURRENT_VERSION "4").
 *
 * Where the OpenAPI file and the server disagree, cslr follows the server: the routes end in a
 * slash (`/api/jobs/`, as the SDK sends; aiohttp does not match `/api/jobs`), stop answers
 * `{stopped: bool}` (not a bare JobStatus), and optional fields arrive as JSON null.
 *
 * Schemas are strict about the types of the fields cslr uses and let unknown fields through, so
 * a newer Ray that adds fields still works and a broken or hostile answer is a one-line error.
 */
import { z } from "../config/zod.ts";

export const jobStatuses = ["PENDING", "RUNNING", "STOPPED", "SUCCEEDED", "FAILED"] as const;
export type JobStatus = (typeof jobStatuses)[number];

/** common.py JobStatus.is_terminal: no transition leaves these. */
export function isTerminal(status: JobStatus): boolean {
  return status === "STOPPED" || status === "SUCCEEDED" || status === "FAILED";
}

const text = z.string().nullish();
/** Unix time in milliseconds (JobInfo.start_time / end_time). */
const epochMs = z.int().nonnegative().nullish();

export const driverInfoSchema = z.object({ id: z.string(), node_ip_address: z.string(), pid: z.string() });

/** pydantic_models.py JobDetails: GET /api/jobs/{id} and each item of GET /api/jobs/. */
export const jobDetailsSchema = z.object({
  type: z.enum(["SUBMISSION", "DRIVER"]),
  job_id: text,
  submission_id: text,
  driver_info: driverInfoSchema.nullish(),
  status: z.enum(jobStatuses),
  entrypoint: z.string(),
  message: text,
  error_type: text,
  start_time: epochMs,
  end_time: epochMs,
  metadata: z.record(z.string(), z.string()).nullish(),
  runtime_env: z.record(z.string(), z.unknown()).nullish(),
  driver_agent_http_address: text,
  driver_node_id: text,
  driver_exit_code: z.int().nullish(),
  /** What the entrypoint asked for (the page shows the GPUs a job holds). */
  entrypoint_num_gpus: z.number().nonnegative().nullish(),
});
export type JobDetails = z.infer<typeof jobDetailsSchema>;

export const jobListSchema = z.array(jobDetailsSchema);

/** common.py JobSubmitResponse: job_id is deprecated and equals submission_id. */
export const submitResponseSchema = z.object({ submission_id: z.string().min(1), job_id: text });

/** common.py JobStopResponse: false when the job had already ended. */
export const stopResponseSchema = z.object({ stopped: z.boolean() });

/** common.py JobLogsResponse: the whole log file of the driver, every time. */
export const logsResponseSchema = z.object({ logs: z.string() });

/** modules/version.py VersionResponse. */
export const versionResponseSchema = z.object({ version: z.string(), ray_version: z.string() });
export type VersionResponse = z.infer<typeof versionResponseSchema>;

/**
 * common.py JobSubmitRequest, the fields cslr sends. The server builds the dataclass from the
 * JSON keys after dropping nulls (utils.py parse_and_validate_request), so an unknown key is a
 * 400: never add one. Values: entrypoint_num_cpus/gpus numbers, entrypoint_memory an integer,
 * metadata and env_vars string → string.
 */
export interface JobSubmitRequest {
  entrypoint: string;
  submission_id: string;
  runtime_env: { working_dir: string; env_vars: Record<string, string> };
  metadata: Record<string, string>;
  entrypoint_num_cpus?: number;
  entrypoint_num_gpus?: number;
  entrypoint_memory?: number;
  /** Where the driver may run (common.py JobSubmitRequest, Ray >= 2.49): cslr keeps it off the head. */
  entrypoint_label_selector?: Record<string, string>;
}

/** The routes, as job_head.py registers them. */
export const routes = {
  version: "/api/version",
  jobs: "/api/jobs/",
  job: (id: string) => `/api/jobs/${encodeURIComponent(id)}`,
  logs: (id: string) => `/api/jobs/${encodeURIComponent(id)}/logs`,
  /** WebSocket; text frames of up to 10 lines or 20,000 characters; closed when the job ends. */
  logsTail: (id: string) => `/api/jobs/${encodeURIComponent(id)}/logs/tail`,
  stop: (id: string) => `/api/jobs/${encodeURIComponent(id)}/stop`,
  /**
   * GET: 200 when the package is in the cluster's GCS (and pins it for 10 minutes so it is not
   * collected before the job starts), 404 when not. PUT: the zip as the raw body, 200.
   */
  package: (name: string) => `/api/packages/gcs/${encodeURIComponent(name)}`,
} as const;
