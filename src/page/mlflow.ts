/**
 * A job's MLflow run, for the page's link. `cslr run` gives the job MLFLOW_EXPERIMENT_NAME (and
 * the tracking URI), not a run: the run the job's code starts is the one in that experiment that
 * started while the job ran (the first such, by start time). Two REST calls, each answer parsed
 * against a schema (MLflow 2/3 REST API: experiments/get-by-name, runs/search).
 */
import { z } from "zod";
import type { Fetch } from "../jobs/client.ts";
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

export async function findMlflowRun(mlflow: { api: string; ui: string }, job: PageJob, fetchImpl: Fetch): Promise<string | undefined> {
  if (!job.experiment || !job.startTime) return undefined;
  const api = mlflow.api.replace(/\/+$/, "");
  const signal = AbortSignal.timeout(3000);
  const experiment = await fetchImpl(`${api}/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(job.experiment)}`, { signal });
  if (!experiment.ok) return undefined;
  const id = experimentAnswer.parse(await experiment.json()).experiment.experiment_id;
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
