import { afterEach, describe, expect, test } from "bun:test";
import { JobsClient } from "../../src/jobs/client.ts";
import { unseen, unseenSuffix } from "../../src/jobs/follow.ts";
import { isClientServerDriver, jobRows, listJobs, renderJobs, showLogs, stopJob } from "../../src/jobs/jobs.ts";
import { LastLines } from "../../src/jobs/outcome.ts";
import type { JobDetails } from "../../src/jobs/spec.ts";
import { FakeRay } from "./fake-ray.ts";

const fakes: FakeRay[] = [];
afterEach(() => {
  while (fakes.length) fakes.pop()!.stop();
});

const base = { type: "SUBMISSION", job_id: null, message: null, end_time: null } as const;
const jobs: JobDetails[] = [
  { ...base, submission_id: "raysubmit_old", status: "SUCCEEDED", entrypoint: "python a.py", start_time: 1_000_000, end_time: 1_000_000 + 65_000 },
  { ...base, submission_id: "raysubmit_new", status: "RUNNING", entrypoint: `python ${"x".repeat(80)}.py`, start_time: 2_000_000 },
  { ...base, type: "DRIVER", submission_id: null, job_id: "03000000", status: "RUNNING", entrypoint: "", start_time: null },
];

describe("cslr jobs", () => {
  test("rows: newest first, duration to now while running, long entrypoints cut", () => {
    expect(jobRows(jobs, 2_000_000 + 3_723_000, (ms) => `t${ms}`)).toEqual([
      { id: "raysubmit_new", status: "RUNNING", entrypoint: `python ${"x".repeat(52)}…`, start: "t2000000", duration: "1h02m" },
      { id: "raysubmit_old", status: "SUCCEEDED", entrypoint: "python a.py", start: "t1000000", duration: "1m05s" },
      { id: "03000000", status: "RUNNING", entrypoint: "-", start: "-", duration: "-" },
    ]);
  });

  test("the table is aligned; an empty cluster says how to start", () => {
    const table = renderJobs(jobRows(jobs.slice(0, 1), 0, () => "2026-01-01 10:00:00"));
    expect(table).toBe(
      "ID             STATUS     START                DURATION  ENTRYPOINT\nraysubmit_old  SUCCEEDED  2026-01-01 10:00:00  1m05s     python a.py\n",
    );
    expect(renderJobs([])).toBe("no jobs on the cluster yet; submit one with cslr run -- COMMAND\n");
  });

  test("the driver of a ray:// session (as real Ray 2.60 lists it after cslr test) is left out of the table, counted, and kept in --json", async () => {
    // GET /api/jobs/ of a real Ray 2.60 head after one ray.init("ray://127.0.0.1:10001") session.
    const clientSession = JSON.parse(
      '{"type": "DRIVER", "job_id": "01000000", "submission_id": null, "driver_info": {"id": "01000000", "node_ip_address": "172.17.0.2", "pid": "578"}, "status": "SUCCEEDED", "entrypoint": "/opt/venv/bin/python3 -m ray.util.client.server --address=172.17.0.2:6379 --host=127.0.0.1 --port=23000 --mode=specific-server", "message": null, "error_type": null, "start_time": 1796391158295, "end_time": 1796391165254, "metadata": {}, "runtime_env": {}}',
    ) as JobDetails;
    expect(isClientServerDriver(clientSession)).toBe(true);
    expect(jobs.map(isClientServerDriver)).toEqual([false, false, false]);
    const client = { list: async () => [jobs[0]!, clientSession] } as unknown as JobsClient;
    const out: string[] = [];
    await listJobs(client, { json: false }, (t) => out.push(t));
    expect(out.join("")).toContain("raysubmit_old");
    expect(out.join("")).not.toContain("01000000");
    expect(out.join("")).toContain("(1 Ray client session not listed: drivers of ray:// connections, like cslr test's; --json has them)");
    out.length = 0;
    await listJobs(client, { json: true }, (t) => out.push(t));
    expect(JSON.parse(out[0]!).jobs).toHaveLength(2);
  });

  test("against a head: table and --json", async () => {
    const fake = new FakeRay({ steps: [{ status: "RUNNING" }] });
    fakes.push(fake);
    const client = new JobsClient({ url: fake.url });
    const submitted = await fetch(`${fake.url}/api/jobs/`, {
      method: "POST",
      body: JSON.stringify({ entrypoint: "python t.py", submission_id: "raysubmit_t" }),
    });
    expect(submitted.status).toBe(200);
    const out: string[] = [];
    expect(await listJobs(client, { json: false }, (t) => out.push(t))).toBe(0);
    expect(out[0]).toMatch(
      /^ID +STATUS +START +DURATION +ENTRYPOINT\nraysubmit_t +(PENDING|RUNNING) +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +[\d.]+s +python t\.py\n$/,
    );
    out.length = 0;
    await listJobs(client, { json: true }, (t) => out.push(t));
    const document = JSON.parse(out[0]!);
    expect(Object.keys(document)).toEqual(["schemaVersion", "jobs"]);
    expect(document.schemaVersion).toBe(1);
    expect(document.jobs[0].submission_id).toBe("raysubmit_t");
  });

  test("logs: the whole log; -f follows to the end and exits as the job did; stop", async () => {
    const fake = new FakeRay({ steps: [{ status: "RUNNING" }, { log: "one\n" }, { waitMs: 30, log: "two\n" }, { status: "FAILED", exitCode: 2 }] });
    fakes.push(fake);
    const client = new JobsClient({ url: fake.url });
    await fetch(`${fake.url}/api/jobs/`, { method: "POST", body: JSON.stringify({ entrypoint: "x", submission_id: "raysubmit_l" }) });
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      writeLog: (t: string) => out.push(t),
      say: (l: string) => err.push(l),
      logOnScreen: true,
      interrupts: { subscribe: () => () => {} },
      follow: { watchdogMs: 20, graceMs: 30 },
    };
    expect(await showLogs(client, "raysubmit_l", { follow: true }, io)).toBe(1);
    expect(out.join("")).toBe("one\ntwo\n");
    expect(err.at(-1)).toMatch(/^job raysubmit_l failed in [\d.]+s: its command exited with code 2/);
    out.length = 0;
    expect(await showLogs(client, "raysubmit_l", { follow: false }, io)).toBe(0);
    expect(out).toEqual(["one\ntwo\n"]);
    expect(await stopJob(client, "raysubmit_l", (l) => err.push(l))).toBe(0);
    expect(err.at(-1)).toBe("job raysubmit_l had already ended");
    expect(showLogs(client, "raysubmit_nope", { follow: false }, io)).rejects.toThrow(
      `no job raysubmit_nope on the cluster at ${fake.url}; list the jobs with cslr jobs`,
    );
    expect(fake.violations).toEqual([]);
  });
});

describe("printing each piece of the log once", () => {
  test("a reconnected tail starts from the first line: what was printed is skipped", () => {
    const cursor = { printed: 0, received: 0 };
    expect([unseen(cursor, "a\nb"), unseen(cursor, "\nc\n")]).toEqual(["a\nb", "\nc\n"]);
    cursor.received = 0;
    expect([unseen(cursor, "a\n"), unseen(cursor, "b\nc"), unseen(cursor, "\nd\n")]).toEqual(["", "", "d\n"]);
    expect(cursor.printed).toBe(8);
  });

  test("a whole-log read prints only its new suffix", () => {
    const cursor = { printed: 0, received: 0 };
    expect(unseenSuffix(cursor, "")).toBe("");
    expect(unseenSuffix(cursor, "a\n")).toBe("a\n");
    expect(unseenSuffix(cursor, "a\nb\n")).toBe("b\n");
    expect(unseenSuffix(cursor, "a\nb\n")).toBe("");
  });

  test("the last lines kept for a failure: ten, with the unfinished one", () => {
    const last = new LastLines();
    for (let i = 1; i <= 12; i++) last.push(`line ${i}\n`);
    last.push("partial");
    expect(last.get()).toEqual(["line 4", "line 5", "line 6", "line 7", "line 8", "line 9", "line 10", "line 11", "line 12", "partial"]);
  });
});
