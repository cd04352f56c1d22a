import { afterAll, expect, test } from "bun:test";
import { fetchRoster, localHealthUrl } from "../../src/status/roster.ts";

const roster = {
  head: { node: "lab-cpu", address: "10.0.0.5:6379", term: 2, since: "2026-01-01T00:00:00Z", ready: true },
  term: 2,
  workers: [{ node: "w1", address: "10.0.0.6", ageMs: 500 }],
};

// A real HTTP server on loopback standing in for the election service's roster endpoint.
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/good/v1/cluster") return Response.json(roster);
    if (path === "/bad/v1/cluster") return Response.json({ hello: "world" });
    return new Response("nope", { status: 404 });
  },
});
afterAll(() => server.stop(true));
const base = `http://127.0.0.1:${server.port}`;

test("reads the roster", async () => {
  expect(await fetchRoster(`${base}/good/`)).toEqual({ roster });
});

test.each([
  ["an HTTP error", "/missing", /answered HTTP 404$/],
  ["a body that is not a roster", "/bad", /did not return a roster/],
])("%s becomes a one-line reason", async (_name, path, message) => {
  const result = await fetchRoster(`${base}${path}`);
  expect("error" in result && result.error).toMatch(message);
});

test("an unreachable service becomes a one-line reason", async () => {
  const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const url = `http://127.0.0.1:${closed.port}`;
  closed.stop(true);
  const result = await fetchRoster(url);
  expect("error" in result && result.error).toStartWith(`${url}/v1/cluster unreachable:`);
});

test("localHealthUrl is the published port on loopback", () => {
  expect(localHealthUrl(8888)).toBe("http://127.0.0.1:8888");
});
