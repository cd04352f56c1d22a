import { afterAll, describe, expect, test } from "bun:test";
import { JobsApiError, JobsClient } from "../../src/jobs/client.ts";

/** A head that answers whatever the test sets for the next request. */
let answer: () => Response = () => new Response("unset", { status: 500 });
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => answer() });
afterAll(() => server.stop(true));
const url = `http://127.0.0.1:${server.port}`;
const client = new JobsClient({ url, timeoutMs: 2000 });

async function failure(call: () => Promise<unknown>): Promise<JobsApiError> {
  try {
    await call();
  } catch (error) {
    expect(error).toBeInstanceOf(JobsApiError);
    return error as JobsApiError;
  }
  throw new Error("expected a failure");
}

const job = {
  type: "SUBMISSION",
  submission_id: "raysubmit_x",
  status: "RUNNING",
  entrypoint: "python t.py",
  job_id: null,
  driver_info: null,
  message: null,
  error_type: null,
  start_time: 1767225600000,
  end_time: null,
  metadata: {},
  runtime_env: {},
};

describe("hostile or broken answers are one line, never a crash", () => {
  const cases: [string, () => Response, RegExp][] = [
    [
      "a status of the wrong type",
      () => Response.json({ ...job, status: 5 }),
      /answered in a shape Ray's Jobs API does not use \(status: .+\) when cslr tried to read job raysubmit_x; is .+ the dashboard of a Ray 2 head\?$/,
    ],
    ["an unknown status", () => Response.json({ ...job, status: "EXPLODED" }), /\(status: .+\)/],
    ["a missing entrypoint", () => Response.json({ ...job, entrypoint: undefined }), /\(entrypoint: .+\)/],
    ["a start time that is not a whole number", () => Response.json({ ...job, start_time: "yesterday" }), /\(start_time: .+\)/],
    ["metadata that is not strings", () => Response.json({ ...job, metadata: { a: 1 } }), /\(metadata\.a: .+\)/],
    ["null", () => Response.json(null), /\(the body: .+\)/],
    ["an array", () => Response.json([1, 2]), /\(the body: .+\)/],
    ["plain text with status 200", () => new Response("hello from nginx"), /answered with something that is not JSON \(hello from nginx\)/],
    [
      "an HTML error page",
      () => new Response("<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>", { status: 502, headers: { "content-type": "text/html" } }),
      /failed to read job raysubmit_x \(HTTP 502: an HTML page, not Ray's Jobs API\); check the head with cslr status$/,
    ],
    [
      "an HTML 404 page",
      () => new Response("<html>nope</html>", { status: 404, headers: { "content-type": "text/html" } }),
      /answered HTTP 404 \(an HTML page, not Ray's Jobs API\); is .+ the dashboard port of a Ray 2 head \(8265 by default\)\?$/,
    ],
    [
      "a streamed body over the cap",
      () =>
        new Response(
          new ReadableStream({
            pull(c) {
              c.enqueue(new Uint8Array(1024 * 1024).fill(32));
            },
          }),
        ),
      /sent more than 4 MiB while cslr tried to read job raysubmit_x; Ray's Jobs API gives no such answer/,
    ],
    [
      "terminal escapes in an error",
      () => new Response("Traceback\n\u001b[2J\u001b[31mRuntimeError: evil\u0007", { status: 500 }),
      /\(HTTP 500: \[2J \[31mRuntimeError: evil\)/,
    ],
    [
      "a redirect",
      () => new Response("", { status: 302, headers: { location: "http://elsewhere/" } }),
      /redirects \(HTTP 302\); give cslr the head's dashboard address itself$/,
    ],
  ];
  test.each(cases)("%s", async (_name, respond, message) => {
    answer = respond;
    const error = await failure(() => client.job("raysubmit_x"));
    expect(error.message).toMatch(message);
    expect(error.message).not.toMatch(/[\n\u001b\u0007]/);
    expect(error.message.length).toBeLessThan(400);
  });

  test("a declared body of 5 GB is not read", async () => {
    let cancelled = false;
    const body = new ReadableStream({
      pull(c) {
        c.enqueue(new Uint8Array(16));
      },
      cancel() {
        cancelled = true;
      },
    });
    const lying = new JobsClient({ url, fetch: async () => new Response(body, { headers: { "content-length": String(5e9) } }) });
    expect((await failure(() => lying.job("raysubmit_x"))).message).toMatch(/sent more than 4 MiB/);
    expect(cancelled).toBe(true);
  });

  test("a 404 for a job names the job and the fix", async () => {
    answer = () => new Response("Job raysubmit_nope does not exist", { status: 404 });
    expect((await failure(() => client.job("raysubmit_nope"))).message).toBe(`no job raysubmit_nope on the cluster at ${url}; list the jobs with cslr jobs`);
  });

  test("a wrong token", async () => {
    answer = () => new Response("Forbidden: Invalid authentication token", { status: 403 });
    expect((await failure(() => client.list())).message).toBe(
      `Ray's Jobs API at ${url} refused to let cslr list the jobs (HTTP 403: Forbidden: Invalid authentication token); use the token the cluster was started with`,
    );
  });

  test("an upload over the dashboard's limit", async () => {
    answer = () => new Response("Request Entity Too Large", { status: 413 });
    expect((await failure(() => client.uploadPackage("_ray_pkg_a.zip", new Uint8Array(10)))).message).toBe(
      `the head at ${url} refused to upload package _ray_pkg_a.zip (0.0 MiB): too large (HTTP 413); list what the job does not need in .rayignore`,
    );
  });

  test("the package check: 200 exists, 404 missing, anything else an error", async () => {
    answer = () => new Response("");
    expect(await client.packageExists("_ray_pkg_a.zip")).toBe(true);
    answer = () => new Response("Package gcs://_ray_pkg_a.zip does not exist", { status: 404 });
    expect(await client.packageExists("_ray_pkg_a.zip")).toBe(false);
    answer = () => new Response("Traceback\nRuntimeError: GCS down", { status: 500 });
    expect((await failure(() => client.packageExists("_ray_pkg_a.zip"))).message).toContain("(HTTP 500: RuntimeError: GCS down)");
  });

  test("a head that accepts the connection and never answers: a timeout, one line", async () => {
    answer = () => new Response(new ReadableStream({ start() {} }), { headers: { "content-type": "application/json" } });
    const slow = new JobsClient({ url, timeoutMs: 200 });
    const error = await failure(() => slow.job("raysubmit_x"));
    expect(error.message).not.toContain("\n");
    expect(error.kind).toBe("unreachable");
  });

  test("answers that fit are parsed, unknown new fields let through", async () => {
    answer = () => Response.json({ ...job, a_field_from_ray_3: { x: 1 } });
    expect((await client.job("raysubmit_x")).status).toBe("RUNNING");
    answer = () => Response.json({ stopped: false });
    expect(await client.stop("raysubmit_x")).toBe(false);
    answer = () => Response.json({ logs: "a\nb\n" });
    expect(await client.logs("raysubmit_x")).toBe("a\nb\n");
  });
});
