/**
 * A job's MLflow run, for the page's link. `cslr run` gives the job MLFLOW_EXPERIMENT_NAME (and
 * the tracking URI), not a run: the run the job's code starts is the one in that experiment that
 * started while the job ran (the first such, by start time). Two REST calls, each answer parsed
 * against a schema (MLflow 2/3 REST API: experiments/get-by-name, runs/search).
 */
import { z } from "zod";
import type { Fetch } from "../jobs/client.ts";
import { mlflowJobTag } from "../jobs/submit.ts";
import type { PageJob } from "./jobs.ts";

const experimentAnswer = z.object({ experiment: z.object({ experiment_id: z.string().regex(/^[0-9A-Za-z_-]{1,64}$/) }) });
const runsAnswer = z.object({
  runs: z
    .array(z.object({ info: z.object({ run_id: z.string().regex(/^[0-9a-f]{1,64}$/), start_time: z.coerce.number() }) }))
    .max(100)
    .optional(),
});

/** Seconds of slack between the job's clock (the head's) and the run's (the job's node). */
const slackMs = 2000;

/** The experiment's id, or undefined when MLflow has no such experiment. */
async function experimentId(api: string, name: string, fetchImpl: Fetch, signal: AbortSignal): Promise<string | undefined> {
  const experiment = await fetchImpl(`${api}/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`, { signal });
  if (!experiment.ok) return undefined;
  return experimentAnswer.parse(await experiment.json()).experiment.experiment_id;
}

export async function findMlflowRun(mlflow: { api: string; ui: string }, job: PageJob, fetchImpl: Fetch): Promise<string | undefined> {
  if (!job.experiment || !job.startTime) return undefined;
  const api = mlflow.api.replace(/\/+$/, "");
  const signal = AbortSignal.timeout(3000);
  const id = await experimentId(api, job.experiment, fetchImpl, signal);
  if (id === undefined) return undefined;
  const search = await fetchImpl(`${api}/api/2.0/mlflow/runs/search`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      experiment_ids: [id],
      filter: `attributes.start_time >= ${job.startTime - slackMs}`,
      max_results: 20,
      order_by: ["attributes.start_time ASC"],
    }),
    signal,
  });
  if (!search.ok) return undefined;
  const runs = runsAnswer.parse(await search.json()).runs ?? [];
  const until = (job.endTime ?? Number.MAX_SAFE_INTEGER) + slackMs;
  const run = runs.find((r) => r.info.start_time <= until);
  return run ? `${mlflow.ui.replace(/\/+$/, "")}/#/experiments/${id}/runs/${run.info.run_id}` : undefined;
}

const runningAnswer = z.object({
  runs: z
    .array(z.object({ info: z.object({ run_id: z.string().regex(/^[0-9a-f]{1,64}$/), status: z.string().max(20) }) }))
    .max(100)
    .optional(),
});

/** What a Ray job's end makes of its MLflow runs that are still RUNNING. */
const endStatus: Partial<Record<PageJob["status"], "FAILED" | "KILLED">> = { FAILED: "FAILED", STOPPED: "KILLED" };

/**
 * Ends as FAILED (KILLED for a stopped job) the MLflow runs a FAILED or STOPPED Ray job left
 * RUNNING: a driver that died (its node lost, the job stopped) never ended its run. The runs are
 * found exactly, by the tag `cslr run` has MLflow put on every run of the job (MLFLOW_RUN_CONTEXT),
 * never by time. Returns how many runs it ended.
 */
export async function endRunsOfEndedJob(mlflow: { api: string }, job: PageJob, fetchImpl: Fetch): Promise<number> {
  const status = endStatus[job.status];
  if (!status || !job.experiment || !/^[A-Za-z0-9_-]{1,128}$/.test(job.submissionId)) return 0;
  const api = mlflow.api.replace(/\/+$/, "");
  const signal = AbortSignal.timeout(5000);
  const id = await experimentId(api, job.experiment, fetchImpl, signal);
  if (id === undefined) return 0;
  const search = await fetchImpl(`${api}/api/2.0/mlflow/runs/search`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ experiment_ids: [id], filter: `tags.${mlflowJobTag} = '${job.submissionId}' and attributes.status = 'RUNNING'`, max_results: 100 }),
    signal,
  });
  if (!search.ok) return 0;
  const runs = (runningAnswer.parse(await search.json()).runs ?? []).filter((r) => r.info.status === "RUNNING");
  let ended = 0;
  for (const run of runs) {
    const update = await fetchImpl(`${api}/api/2.0/mlflow/runs/update`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ run_id: run.info.run_id, status, end_time: job.endTime ?? Date.now() }),
      signal,
    });
    if (update.ok) ended++;
  }
  return ended;
}
