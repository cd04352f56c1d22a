/**
 * A job whose driver died (its node lost in a head change, or the job stopped) never ends its
 * MLflow run: the coordinator's reaper ends it as FAILED (KILLED for a stopped job), whether or
 * not anyone looks at the page. Runs are found by the tag `cslr run` has MLflow put on them
 * (MLFLOW_RUN_CONTEXT), never by time: another job's run and finished runs are left alone.
 * Against a real election server with the page, a fake head dashboard and a fake MLflow REST API.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { jobEnv, mlflowJobTag } from "../../src/jobs/submit.ts";
import { startLabServer, type LabServer } from "../../src/page/server.ts";
import { fakeDashboard, labJobs, type FakeDashboard } from "./lab.ts";

interface Run {
  run_id: string;
  experiment_id: string;
  status: string;
  tags: Record<string, string>;
  end_time?: number;
}

/** MLflow's REST API as far as the reaper asks it (experiments/get-by-name, runs/search, runs/update). */
function fakeMlflow(runs: Run[]) {
  const updates: { run_id: string; status: string; end_time: number }[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname === "/api/2.0/mlflow/experiments/get-by-name") {
        return url.searchParams.get("experiment_name") === "lab"
          ? Response.json({ experiment: { experiment_id: "7", name: "lab" } })
          : Response.json({ error_code: "RESOURCE_DOES_NOT_EXIST" }, { status: 404 });
      }
      if (url.pathname === "/api/2.0/mlflow/runs/search" && req.method === "POST") {
        const body = (await req.json()) as { experiment_ids: string[]; filter: string };
        // The filter MLflow's search grammar takes: tags.KEY = 'VALUE' and attributes.status = 'RUNNING'.
        const match = /^tags\.(\w+) = '([\w-]+)' and attributes\.status = 'RUNNING'$/.exec(body.filter);
        if (!match) return Response.json({ error_code: "INVALID_PARAMETER_VALUE", message: body.filter }, { status: 400 });
        const found = runs.filter((r) => body.experiment_ids.includes(r.experiment_id) && r.status === "RUNNING" && r.tags[match[1]!] === match[2]);
        return Response.json({ runs: found.map((r) => ({ info: { run_id: r.run_id, status: r.status } })) });
      }
      if (url.pathname === "/api/2.0/mlflow/runs/update" && req.method === "POST") {
        const body = (await req.json()) as { run_id: string; status: string; end_time: number };
        updates.push(body);
        const run = runs.find((r) => r.run_id === body.run_id);
        if (run) Object.assign(run, { status: body.status, end_time: body.end_time });
        return Response.json({ run_info: { run_id: body.run_id, status: body.status } });
      }
      return new Response("not found", { status: 404 });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, updates, stop: () => server.stop(true) };
}

const hex = (c: string) => c.repeat(32);
const tagged = (job: string) => JSON.parse(jobEnv({ experiment: "lab", env: [], submissionId: job }).MLFLOW_RUN_CONTEXT!) as Record<string, string>;

let server: LabServer;
let ray: FakeDashboard;
let mlflow: ReturnType<typeof fakeMlflow>;
const runs: Run[] = [];

beforeAll(() => {
  const jobs = labJobs({ workstations: 1, gpusPerNode: 1, jobs: 4, running: 0 }).map((job, i) => ({
    ...job,
    submission_id: `raysubmit_r${i}`,
    status: ["FAILED", "STOPPED", "SUCCEEDED", "FAILED"][i],
  }));
  runs.push(
    { run_id: hex("a"), experiment_id: "7", status: "RUNNING", tags: tagged("raysubmit_r0") },
    { run_id: hex("b"), experiment_id: "7", status: "RUNNING", tags: tagged("raysubmit_r1") },
    // A finished run of a failed job, a running one of a job that succeeded, one of a job still unknown to Ray.
    { run_id: hex("c"), experiment_id: "7", status: "FINISHED", tags: tagged("raysubmit_r3") },
    { run_id: hex("d"), experiment_id: "7", status: "RUNNING", tags: tagged("raysubmit_r2") },
    { run_id: hex("e"), experiment_id: "7", status: "RUNNING", tags: tagged("raysubmit_other") },
  );
  ray = fakeDashboard({ workstations: 1, gpusPerNode: 1, jobs: 4, running: 0 });
  ray.setJobs(jobs);
  mlflow = fakeMlflow(runs);
  server = startLabServer({
    host: "127.0.0.1",
    port: 0,
    whitelist: ["ray-gpu"],
    leaseTtlMs: 30_000,
    token: "reaper-test-token-0123456789",
    log: () => {},
    page: {
      config: {
        version: 1,
        project: "lab",
        dashboardPorts: { "ray-gpu": Number(new URL(ray.url).port) },
        services: [],
        mlflow: { api: mlflow.url, ui: "http://mlflow.lab:5000" },
      },
    },
  });
  server.service.apply(() => server.service.election.claim("ray-gpu", "127.0.0.1:6380"));
  server.service.apply(() => server.service.election.ready("ray-gpu", 1));
});

afterAll(async () => {
  await server.stop();
  await ray.stop();
  await mlflow.stop();
});

describe("the MLflow runs of jobs whose driver died", () => {
  test("cslr run tags every MLflow run of a job with its submission id", () => {
    expect(tagged("raysubmit_x")).toEqual({ [mlflowJobTag]: "raysubmit_x" });
  });

  test("a FAILED job's running run ends FAILED, a STOPPED one's KILLED, at the job's end time; nothing else changes", async () => {
    expect(await server.page.reap()).toBe(2);
    expect(mlflow.updates.map((u) => [u.run_id, u.status])).toEqual([
      [hex("a"), "FAILED"],
      [hex("b"), "KILLED"],
    ]);
    const failed = labJobs({ workstations: 1, gpusPerNode: 1, jobs: 4, running: 0 })[0]!;
    expect(mlflow.updates[0]!.end_time).toBe(failed.end_time as number);
    expect(runs.filter((r) => r.status === "RUNNING").map((r) => r.run_id)).toEqual([hex("d"), hex("e")]);
  });

  test("a job settled once is not asked about again", async () => {
    const before = mlflow.updates.length;
    expect(await server.page.reap()).toBe(0);
    expect(mlflow.updates.length).toBe(before);
  });
});
