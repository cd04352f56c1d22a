import { afterAll, expect, test } from "bun:test";
import { readCluster } from "../../src/election/client.ts";
import { parseClusterView } from "../../src/election/roster.ts";
import { rosterUrl } from "../../src/config/urls.ts";
import { modelFixture } from "../helpers/model.ts";

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
  expect(await readCluster(`${base}/good/`)).toEqual({ roster });
});

test.each([
  ["an HTTP error", "/missing", /answered HTTP 404$/],
  ["a body that is not a roster", "/bad", /did not return a roster/],
])("%s becomes a one-line reason", async (_name, path, message) => {
  const result = await readCluster(`${base}${path}`);
  expect("error" in result && result.error).toMatch(message);
});

test("an unreachable service becomes a one-line reason", async () => {
  const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const url = `http://127.0.0.1:${closed.port}`;
  closed.stop(true);
  const result = await readCluster(url);
  expect("error" in result && result.error).toStartWith(`${url}/v1/cluster unreachable:`);
});

test("rosterUrl: the published port on loopback, or the configured URL when the service runs elsewhere", () => {
  expect(rosterUrl(modelFixture({ services: { health: { port: 8888 } } }))).toBe("http://127.0.0.1:8888");
  const remote = modelFixture({ services: { health: { enabled: false } } }, { head_whitelist: ["ray-cpu"], health_service: { url: "http://10.0.0.9:8888" } });
  expect(rosterUrl(remote)).toBe("http://10.0.0.9:8888");
});

test.each([
  ["the public view (no term)", { head: { node: "a", address: "a:6379", ready: true }, workers: [] }, true],
  ["a full view with unknown extra fields", { term: 4, head: null, workers: [{ node: "w", address: "x", joinedAt: 1, future: true }], hosts: [] }, true],
  ["a head without a name", { head: { address: "a:6379" }, workers: [] }, false],
  ["workers not a list", { head: null, workers: {} }, false],
  ["a string", "roster", false],
])("parseClusterView: %s", (_name, value, ok) => {
  expect(parseClusterView(value) !== undefined).toBe(ok);
});
