/**
 * The README's first experiment as the e2e suites use it: its train.py and its command lines
 * read from README.md itself (so a README that drifts from what works fails a test), and the
 * run it leaves in MLflow, read back over MLflow's REST API.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../helpers/binary.ts";

function readme(): string {
  return readFileSync(join(repoRoot, "README.md"), "utf8");
}

/** The python block of the README's "Run an experiment" section, between its markers. */
export function readmeExample(): string {
  const block = /<!-- example:train\.py -->\n```python\n([\s\S]*?)```\n<!-- example:end -->/.exec(readme())?.[1];
  if (!block) throw new Error("README.md has no example:train.py block");
  return block;
}

/** The README's `cslr run -- python train.py` line (its sh block after the example), as argv without `cslr`. */
export function readmeRunArgv(): string[] {
  const line = /<!-- example:end -->\n\n```sh\n(cslr run -- [^#\n]*?)\s*(?:#[^\n]*)?\n/.exec(readme())?.[1];
  if (!line) throw new Error("README.md has no `cslr run -- …` line right after the example");
  return line.split(/\s+/).slice(1);
}

/**
 * The README's laptop line, `cslr join --client URL --token -`, as argv without `cslr`, with
 * its example URL replaced by `url` (the coordinator's, as `cslr up` printed it).
 */
export function readmeClientJoinArgv(url: string): string[] {
  const line = /`(cslr join --client \S+ --token -)`/.exec(readme())?.[1];
  if (!line) throw new Error("README.md has no `cslr join --client URL --token -` line");
  const argv = line.split(" ").slice(1);
  return argv.map((word) => (/^https?:\/\//.test(word) ? url : word));
}

export interface MlflowRunSeen {
  param?: string;
  metric?: number;
  artifact: string;
  /** How many runs named readme-example the experiment holds. */
  runs: number;
}

/** The README example's newest run in `experimentName`, as the MLflow server at `base` returns it. */
export async function readmeMlflowRun(base: string, experimentName: string): Promise<MlflowRunSeen> {
  const json = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${base}${path}`, { ...init, headers: { "content-type": "application/json" }, signal: AbortSignal.timeout(30_000) });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
    return response.json() as Promise<Record<string, any>>;
  };
  const experiment = await json(`/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(experimentName)}`);
  const search = await json("/api/2.0/mlflow/runs/search", {
    method: "POST",
    body: JSON.stringify({
      experiment_ids: [experiment.experiment.experiment_id],
      filter: "attributes.run_name = 'readme-example'",
      order_by: ["attributes.start_time DESC"],
      max_results: 100,
    }),
  });
  const found = search.runs?.[0];
  if (!found) throw new Error(`no run readme-example in experiment ${experimentName}: ${JSON.stringify(search)}`);
  const params = (found.data.params ?? []) as { key: string; value: string }[];
  const metrics = (found.data.metrics ?? []) as { key: string; value: number }[];
  const artifact = await fetch(`${base}/get-artifact?path=result.txt&run_uuid=${found.info.run_id}`, { signal: AbortSignal.timeout(30_000) });
  return {
    param: params.find((p) => p.key === "n")?.value,
    metric: metrics.find((m) => m.key === "sum_of_squares")?.value,
    artifact: artifact.ok ? await artifact.text() : `HTTP ${artifact.status}`,
    runs: search.runs.length,
  };
}
