/**
 * The stand-in head's Jobs API over real HTTP, shaped like Ray 2.60's dashboard: package
 * upload, submit, status polling, logs, stop, delete, strict request checks and token auth.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { until } from "../helpers/until.ts";
import { headArgs, Kit, type Proc } from "./testkit.ts";
import { zipFiles } from "./zip.ts";

let kit: Kit;
let head: Proc;
let base: string;

beforeAll(async () => {
  kit = new Kit();
  const args = headArgs();
  head = kit.ray("jobs-head", args.args, { RAY_JOB_STOP_WAIT_TIME_S: "1" });
  await head.waitFor(/listening on/);
  base = `http://127.0.0.1:${args.dashboardPort}`;
});

afterAll(async () => {
  await kit?.cleanup();
});

function api(path: string, init: RequestInit = {}, at = base): Promise<Response> {
  return fetch(`${at}${path}`, init);
}

async function submit(body: unknown, at = base, headers: Record<string, string> = {}): Promise<Response> {
  return api(
    "/api/jobs/",
    { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), headers: { "Content-Type": "application/json", ...headers } },
    at,
  );
}

interface JobDetails {
  type: string;
  job_id: string | null;
  submission_id: string;
  status: string;
  message: string;
  error_type: string | null;
  start_time: number;
  end_time: number | null;
  metadata: Record<string, string> | null;
  runtime_env: Record<string, unknown> | null;
  entrypoint: string;
  driver_exit_code: number | null;
  driver_agent_http_address: string | null;
  driver_node_id: string | null;
}

async function job(id: string): Promise<JobDetails> {
  const res = await api(`/api/jobs/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as JobDetails;
}

async function finished(id: string, timeoutMs = 15_000): Promise<JobDetails> {
  return until(
    `job ${id} to finish`,
    async () => {
      const details = await job(id);
      return ["SUCCEEDED", "FAILED", "STOPPED"].includes(details.status) ? details : undefined;
    },
    timeoutMs,
  );
}

async function logs(id: string): Promise<string> {
  const res = await api(`/api/jobs/${id}/logs`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { logs: string }).logs;
}

/**
 * Whether the job's own output has printed this line. A whole line: the stand-in's own lines in
 * the log name the job and quote its entrypoint, so a substring can match before the entrypoint
 * has run a thing (a stop then came before the job's `trap` was set, and the test failed).
 */
async function printed(id: string, line: string): Promise<boolean> {
  return (await logs(id)).split("\n").includes(line);
}

async function upload(name: string, files: Record<string, string>, modes: Record<string, number> = {}): Promise<string> {
  const uri = `gcs://${name}`;
  expect((await api(`/api/packages/gcs/${name}`)).status).toBe(404);
  const put = await api(`/api/packages/gcs/${name}`, { method: "PUT", body: zipFiles(files, modes) });
  expect(put.status).toBe(200);
  expect((await api(`/api/packages/gcs/${name}`)).status).toBe(200);
  return uri;
}

describe("Jobs API (stand-in dashboard)", () => {
  test("GET /api/version answers like Ray's dashboard (the SDK checks it)", async () => {
    const res = await api("/api/version");
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(body.version).toBe("4");
    expect(body.ray_version).toBe("2.60.0+standin");
    expect(Object.keys(body).sort()).toEqual(["ray_commit", "ray_version", "session_name", "version"]);
  });

  test("upload a zip, submit with working_dir and env_vars, poll to SUCCEEDED; output and env in the logs", async () => {
    const uri = await upload(
      "_ray_pkg_0123abcd.zip",
      {
        "run.sh": 'echo "hello from $GREETING"\necho to-stderr >&2\ncat data/x.txt\n./tool.sh\n',
        "data/x.txt": "payload\n",
        "tool.sh": "#!/bin/bash\necho tool ran in $(basename $(pwd))\n",
      },
      { "tool.sh": 0o755 },
    );
    const res = await submit({
      entrypoint: "bash run.sh",
      runtime_env: { working_dir: uri, env_vars: { GREETING: "the job" } },
      metadata: { owner: "cslr-test" },
      entrypoint_num_cpus: 1,
    });
    expect(res.status).toBe(200);
    const { job_id, submission_id } = (await res.json()) as { job_id: string; submission_id: string };
    expect(submission_id).toMatch(/^raysubmit_[A-Za-z0-9]{16}$/);
    expect(job_id).toBe(submission_id);
    const done = await finished(submission_id);
    expect(done.status).toBe("SUCCEEDED");
    expect(done.driver_exit_code).toBe(0);
    expect(done.type).toBe("SUBMISSION");
    expect(done.job_id).toBeNull();
    expect(done.metadata).toEqual({ owner: "cslr-test" });
    expect(done.runtime_env).toEqual({ working_dir: uri, env_vars: { GREETING: "the job" } });
    expect(done.end_time!).toBeGreaterThanOrEqual(done.start_time);
    expect(done.driver_agent_http_address).toMatch(/^http:\/\/[\d.]+:\d+$/);
    expect(Object.keys(done)).toEqual([
      "type",
      "job_id",
      "submission_id",
      "driver_info",
      "status",
      "entrypoint",
      "message",
      "error_type",
      "start_time",
      "end_time",
      "metadata",
      "runtime_env",
      "driver_agent_http_address",
      "driver_node_id",
      "driver_exit_code",
    ]);
    const text = await logs(submission_id);
    // The job's own output passes through unchanged; the stand-in's own lines say so.
    expect(text).toContain("\nhello from the job\n");
    expect(text).toContain("\nto-stderr\n");
    expect(text).toContain("\npayload\n");
    expect(text).toContain("\ntool ran in working_dir\n");
    for (const line of text.split("\n").filter((l) => !["hello from the job", "to-stderr", "payload", "tool ran in working_dir", ""].includes(l))) {
      expect(line).toContain("[ray stand-in]");
    }
    const list = (await (await api("/api/jobs/")).json()) as JobDetails[];
    expect(list.map((j) => j.submission_id)).toContain(submission_id);
  });

  test("RAY_ADDRESS and the job config reach the entrypoint; a given submission_id is used", async () => {
    const res = await submit({ entrypoint: 'echo "addr=$RAY_ADDRESS"; echo "cfg=$RAY_JOB_CONFIG_JSON_ENV_VAR"', submission_id: "env-check" });
    expect(await res.json()).toEqual({ job_id: "env-check", submission_id: "env-check" });
    expect((await finished("env-check")).status).toBe("SUCCEEDED");
    const text = await logs("env-check");
    expect(text).toMatch(/addr=[\d.]+:\d+/);
    expect(text).toContain('"job_submission_id":"env-check"');
  });

  test("a failing entrypoint: FAILED, the exit code in the message and driver_exit_code", async () => {
    await submit({ entrypoint: "echo about to fail; exit 3", submission_id: "fails" });
    const done = await finished("fails");
    expect(done.status).toBe("FAILED");
    expect(done.error_type).toBe("JOB_ENTRYPOINT_COMMAND_ERROR");
    expect(done.driver_exit_code).toBe(3);
    expect(done.message).toContain("exit code 3");
    expect(done.message).toContain("about to fail");
  });

  test("runtime env problems fail the job, not the request (as in Ray)", async () => {
    for (const [id, runtime_env, errorType, text] of [
      ["no-pkg", { working_dir: "gcs://_ray_pkg_missing.zip" }, "RUNTIME_ENV_SETUP_FAILURE", "never uploaded"],
      ["local-dir", { working_dir: "/some/local/dir" }, "RUNTIME_ENV_SETUP_FAILURE", "not a gcs:// package URI"],
      ["bad-env", { env_vars: { A: 1 } }, "JOB_SUPERVISOR_ACTOR_START_FAILURE", "must map strings to strings"],
    ] as const) {
      expect((await submit({ entrypoint: "true", submission_id: id, runtime_env })).status).toBe(200);
      const done = await finished(id);
      expect({ id, status: done.status, error_type: done.error_type }).toEqual({ id, status: "FAILED", error_type: errorType });
      expect(done.message).toContain(text);
    }
    const notZip = "_ray_pkg_notzip.zip";
    expect((await api(`/api/packages/gcs/${notZip}`, { method: "PUT", body: "not a zip" })).status).toBe(200);
    await submit({ entrypoint: "true", submission_id: "bad-zip", runtime_env: { working_dir: `gcs://${notZip}` } });
    const done = await finished("bad-zip");
    expect(done.error_type).toBe("RUNTIME_ENV_SETUP_FAILURE");
    expect(done.message).toContain("not a zip file");
  });

  test("stop: SIGTERM to the job's process group → STOPPED; SIGKILL after the grace when ignored; stopping a finished job → false", async () => {
    await submit({ entrypoint: "trap 'echo got SIGTERM; exit 0' TERM; echo started; sleep 60 & wait", submission_id: "stop-me" });
    await until("stop-me to run", () => printed("stop-me", "started"));
    const res = await api("/api/jobs/stop-me/stop", { method: "POST" });
    expect(await res.json()).toEqual({ stopped: true });
    const done = await finished("stop-me");
    expect(done.status).toBe("STOPPED");
    expect(done.driver_exit_code).toBeNull();
    expect(await logs("stop-me")).toContain("got SIGTERM");

    await submit({ entrypoint: "trap '' TERM; echo stubborn; sleep 60", submission_id: "stubborn" });
    await until("stubborn to run", () => printed("stubborn", "stubborn"));
    const stoppedAt = Date.now();
    expect(await (await api("/api/jobs/stubborn/stop", { method: "POST" })).json()).toEqual({ stopped: true });
    expect((await finished("stubborn")).status).toBe("STOPPED");
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(900); // RAY_JOB_STOP_WAIT_TIME_S=1, then SIGKILL
    expect(await (await api("/api/jobs/stubborn/stop", { method: "POST" })).json()).toEqual({ stopped: false });
  });

  test("delete: a finished job is deleted (then 404); a running one cannot be (500)", async () => {
    await submit({ entrypoint: "true", submission_id: "to-delete" });
    await finished("to-delete");
    const del = await api("/api/jobs/to-delete", { method: "DELETE" });
    expect(del.status).toBe(200);
    expect(await del.json()).toEqual({ deleted: true });
    expect((await api("/api/jobs/to-delete")).status).toBe(404);

    await submit({ entrypoint: "sleep 60", submission_id: "running" });
    await until("running to run", async () => (await job("running")).status === "RUNNING");
    expect((await api("/api/jobs/running", { method: "DELETE" })).status).toBe(500);
    await api("/api/jobs/running/stop", { method: "POST" });
    await finished("running");
  });

  test("404 for unknown ids and paths, 405 for wrong methods", async () => {
    for (const [method, path] of [
      ["GET", "/api/jobs/nope"],
      ["GET", "/api/jobs/nope/logs"],
      ["POST", "/api/jobs/nope/stop"],
      ["DELETE", "/api/jobs/nope"],
      ["GET", "/api/jobs"],
      ["GET", "/api/nothing"],
    ] as const) {
      const res = await api(path, { method });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
    }
    expect((await api("/api/jobs/", { method: "PUT" })).status).toBe(405);
    expect((await api("/api/version", { method: "POST" })).status).toBe(405);
  });

  test("bad bodies: 400 with the reason for what Ray's JobSubmitRequest rejects; 500 for a body that is not a JSON object (as Ray); duplicate ids 500", async () => {
    const cases: [unknown, string][] = [
      [{ entrypoint: 5 }, "entrypoint must be a string, got int"],
      [{}, "missing the required field 'entrypoint'"],
      [{ entrypoint: "true", bogus: 1 }, "has no field 'bogus'"],
      [{ entrypoint: "true", metadata: { a: 1 } }, "metadata values must be strings"],
      [{ entrypoint: "true", runtime_env: "x" }, "runtime_env must be a dict, got str"],
      [{ entrypoint: "true", entrypoint_num_cpus: "2" }, "entrypoint_num_cpus must be a number, got str"],
      [{ entrypoint: "true", entrypoint_memory: 1.5 }, "entrypoint_memory must be an integer, got float"],
      [{ entrypoint: "true", entrypoint_resources: { gpu_type: "a100" } }, "entrypoint_resources values must be numbers"],
      [{ entrypoint: "true", submission_id: 7 }, "submission_id must be a string if provided, got int"],
    ];
    for (const [body, reason] of cases) {
      const res = await submit(body);
      const text = await res.text();
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(text).toContain(reason);
    }
    // null fields are dropped first, as Ray does (newer clients may send them).
    expect((await submit({ entrypoint: "true", submission_id: "nulls", runtime_env: null, metadata: null })).status).toBe(200);
    expect((await submit("not json")).status).toBe(500);
    expect((await submit("[1, 2]")).status).toBe(500);
    const dup = await submit({ entrypoint: "true", submission_id: "nulls" });
    expect(dup.status).toBe(500);
    expect(await dup.text()).toContain("already exists");
  });

  test("logs/tail streams the log over a websocket until the job ends", async () => {
    await submit({ entrypoint: "for i in 1 2 3; do echo line-$i; sleep 0.2; done", submission_id: "tail-me" });
    const ws = new WebSocket(`${base.replace("http", "ws")}/api/jobs/tail-me/logs/tail`);
    let received = "";
    await new Promise<void>((resolve, reject) => {
      ws.onmessage = (event) => (received += String(event.data));
      ws.onclose = () => resolve();
      ws.onerror = () => reject(new Error("websocket error"));
    });
    expect(received).toContain("line-1\nline-2\nline-3\n");
  });
});

describe("Jobs API with RAY_AUTH_MODE=token on the head", () => {
  test("no token → 401, wrong token → 403, Bearer / X-Ray-Authorization / cookie → 200", async () => {
    const args = headArgs();
    const authed = kit.ray("auth-head", args.args, { RAY_AUTH_MODE: "token", RAY_AUTH_TOKEN: "s3cret-token" });
    await authed.waitFor(/listening on/);
    const at = `http://127.0.0.1:${args.dashboardPort}`;
    const get = (headers: Record<string, string>) => api("/api/version", { headers }, at);
    expect((await get({})).status).toBe(401);
    expect((await get({ Authorization: "Bearer wrong" })).status).toBe(403);
    expect((await get({ Authorization: "s3cret-token" })).status).toBe(403);
    expect((await get({ Authorization: "Bearer s3cret-token" })).status).toBe(200);
    expect((await get({ "X-Ray-Authorization": "Bearer s3cret-token" })).status).toBe(200);
    expect((await get({ Cookie: "ray-authentication-token=s3cret-token" })).status).toBe(200);
    expect((await submit({ entrypoint: "true" }, at)).status).toBe(401);
    const ok = await submit({ entrypoint: "echo authed", submission_id: "authed" }, at, { Authorization: "Bearer s3cret-token" });
    expect(ok.status).toBe(200);
    expect((await api("/api/jobs/authed", {}, at)).status).toBe(401);
    expect((await api("/api/jobs/authed", { headers: { Authorization: "Bearer s3cret-token" } }, at)).status).toBe(200);
    expect(authed.output).not.toContain("s3cret-token");
  });
});

describe("Jobs API on a head whose dashboard agent has no HTTP server", () => {
  test("the head's dashboard agent could not bind its HTTP port: the dashboard answers, job submission gets 500 (as Ray's)", async () => {
    const busy = Bun.listen({ hostname: "0.0.0.0", port: 0, socket: { data() {} } });
    try {
      const args = headArgs();
      const h = kit.ray(
        "no-agent",
        args.args.map((a) => (a.startsWith("--dashboard-agent-listen-port=") ? `--dashboard-agent-listen-port=${busy.port}` : a)),
      );
      await h.waitFor(/listening on/);
      await h.waitFor(new RegExp(`port ${busy.port} is already in use`));
      const at = `http://127.0.0.1:${args.dashboardPort}`;
      expect((await api("/api/version", {}, at)).status).toBe(200);
      const res = await submit({ entrypoint: "true" }, at);
      expect(res.status).toBe(500);
      expect(await res.text()).toContain("dashboard agent has no HTTP server");
    } finally {
      busy.stop(true);
    }
  });
});
