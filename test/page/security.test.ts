/**
 * The lab page's doors, against a real election server on loopback and a fake head dashboard:
 * nothing but the sign-in form without the session cookie, the cookie's flags, the CSP, CSRF and
 * origin checks on POSTs, and a wrong token that gets no data.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startLabServer, type LabServer } from "../../src/page/server.ts";
import { fakeDashboard, startLabServerFor, type FakeDashboard, type LabSize } from "./lab.ts";

const token = "page-test-token-0123456789abcdef";
const size: LabSize = { workstations: 2, gpusPerNode: 2, jobs: 4, running: 2 };
let server: LabServer;
let ray: FakeDashboard;

beforeAll(() => {
  ray = fakeDashboard(size, "ray-token-xyz-0123456789");
  server = startLabServerFor(ray, token, { project: "lab", rayToken: "ray-token-xyz-0123456789" });
  server.service.apply(() => server.service.election.claim("ray-gpu.ws01", "127.0.0.1:6380", "ws01"));
  server.service.apply(() => server.service.election.ready("ray-gpu.ws01", 1));
});

afterAll(async () => {
  await server.stop();
  await ray.stop();
});

async function signIn(presented = token): Promise<Response> {
  return fetch(`${server.url}/page/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: server.url },
    body: new URLSearchParams({ token: presented }).toString(),
  });
}

async function cookie(): Promise<string> {
  const answer = await signIn();
  return answer.headers.get("set-cookie")!.split(";")[0]!;
}

describe("page security", () => {
  test("without the cookie: / is the sign-in form only, every data route is 401 without data", async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('action="/page/login"');
    expect(html).not.toContain("ray-gpu.ws01");
    expect(html).not.toContain("<script");
    for (const path of ["/page/main", "/page/data.json"]) {
      const answer = await fetch(`${server.url}${path}`);
      expect(answer.status).toBe(401);
      expect(await answer.text()).not.toContain("ray-gpu");
    }
    const stop = await fetch(`${server.url}/page/stop`, { method: "POST", headers: { origin: server.url }, body: "job=raysubmit_job0000&confirmed=yes" });
    expect(stop.status).toBe(401);
    expect(ray.stopped).toEqual([]);
  });

  test("a wrong token gets no cookie and no data", async () => {
    const answer = await signIn("not-the-token");
    expect(answer.status).toBe(401);
    expect(answer.headers.get("set-cookie")).toBeNull();
    expect(await answer.text()).not.toContain("ray-gpu.ws01");
  });

  test("a forged or expired cookie is not a session", async () => {
    for (const forged of ["cslr_session=v1.99999999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", `cslr_session=${token}`, "cslr_session=v1.1.x"]) {
      const answer = await fetch(`${server.url}/page/data.json`, { headers: { cookie: forged } });
      expect(answer.status).toBe(401);
    }
  });

  test("the right token: a cookie that is HttpOnly, SameSite=Strict, not Secure over plain HTTP, and never holds the token", async () => {
    const answer = await signIn();
    expect(answer.status).toBe(303);
    expect(answer.headers.get("location")).toBe("/");
    const set = answer.headers.get("set-cookie")!;
    expect(set).toContain("HttpOnly");
    expect(set).toContain("SameSite=Strict");
    expect(set).not.toContain("Secure");
    expect(set).not.toContain(token);
    expect(set).toMatch(/^cslr_session=v1\.\d+\.[A-Za-z0-9_-]{43};/);
  });

  test("with the cookie: the page shows the cluster; its CSP allows no other origin and only the page's own script", async () => {
    const answer = await fetch(`${server.url}/`, { headers: { cookie: await cookie() } });
    expect(answer.status).toBe(200);
    const html = await answer.text();
    expect(html).toContain("ray-gpu.ws01");
    expect(html).toContain("raysubmit_job0000");
    const csp = answer.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    expect(csp).not.toMatch(/https?:|\*|unsafe-inline|unsafe-eval/);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(html).not.toMatch(/<script[^>]*src=/);
    expect(html).not.toMatch(/<link[^>]*href=/);
    expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
    expect(answer.headers.get("cache-control")).toBe("no-store");
  });

  test("the live fragment answers 304 while nothing changed", async () => {
    const headers = { cookie: await cookie() };
    const first = await fetch(`${server.url}/page/main`, { headers });
    expect(first.status).toBe(200);
    const etag = first.headers.get("etag")!;
    await first.text();
    const second = await fetch(`${server.url}/page/main`, { headers: { ...headers, "if-none-match": etag } });
    // The page shows the lease's remaining seconds, so a second later it may have changed: either is right, never 401.
    expect([200, 304]).toContain(second.status);
  });

  test("stop: refused from another origin or without the form's CSRF value; asks first; then stops through Ray", async () => {
    const jar = await cookie();
    const html = await (await fetch(`${server.url}/`, { headers: { cookie: jar } })).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const post = (body: Record<string, string>, origin = server.url) =>
      fetch(`${server.url}/page/stop`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie: jar, origin, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(body).toString(),
      });
    expect((await post({ job: "raysubmit_job0000", confirmed: "yes", csrf }, "http://evil.example")).status).toBe(403);
    expect((await post({ job: "raysubmit_job0000", confirmed: "yes" })).status).toBe(403);
    expect((await post({ job: "raysubmit_job0000", confirmed: "yes", csrf: "x".repeat(43) })).status).toBe(403);
    expect(ray.stopped).toEqual([]);
    const ask = await post({ job: "raysubmit_job0000", csrf });
    expect(ask.status).toBe(200);
    expect(await ask.text()).toContain("Stop job raysubmit_job0000?");
    expect(ray.stopped).toEqual([]);
    const done = await post({ job: "raysubmit_job0000", csrf, confirmed: "yes" });
    expect(done.status).toBe(200);
    expect(ray.stopped).toEqual(["raysubmit_job0000"]);
    expect((await post({ job: "../../etc", csrf, confirmed: "yes" })).status).toBe(400);
  });

  test("a sign-in posted from another origin is refused", async () => {
    const answer = await fetch(`${server.url}/page/login`, {
      method: "POST",
      redirect: "manual",
      headers: { origin: "http://evil.example", "content-type": "application/x-www-form-urlencoded" },
      body: `token=${token}`,
    });
    expect(answer.status).toBe(403);
    expect(answer.headers.get("set-cookie")).toBeNull();
  });

  test("many viewers at once cost Ray one refresh, not one per viewer", async () => {
    const jar = await cookie();
    await fetch(`${server.url}/page/main`, { headers: { cookie: jar } }).then((r) => r.text());
    const before = ray.requests.get("/nodes") ?? 0;
    const refreshes = server.page.refreshes;
    await Promise.all(Array.from({ length: 30 }, () => fetch(`${server.url}/page/main`, { headers: { cookie: jar } }).then((r) => r.text())));
    const asked = (ray.requests.get("/nodes") ?? 0) - before;
    // One node summary per refresh, and refreshes follow the clock (one per interval), not the viewers.
    expect(asked).toBe(server.page.refreshes - refreshes);
    expect(asked).toBeLessThan(30);
  });
});

describe("page without a cluster token", () => {
  test("nobody can sign in, and the page says why", async () => {
    const open = startLabServer({ host: "127.0.0.1", port: 0, whitelist: ["a"], leaseTtlMs: 30_000, log: () => {} });
    try {
      const answer = await fetch(`${open.url}/`);
      expect(answer.status).toBe(503);
      expect(await answer.text()).toContain("CSLR_CLUSTER_TOKEN");
      expect((await fetch(`${open.url}/page/data.json`)).status).toBe(401);
    } finally {
      await open.stop();
    }
  });
});
