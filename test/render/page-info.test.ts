/** `_build/page.json`: what the lab page checks and links, handed to the health service with --page. */
import { expect, test } from "bun:test";
import { parse } from "yaml";
import { pageConfigSchema } from "../../src/page/config.ts";
import { embeddedTemplateSet, renderBuild } from "../../src/render/render.ts";
import { modelFixture, renderTls } from "../helpers/model.ts";

function build(config: Parameters<typeof modelFixture>[0] = {}) {
  const files = renderBuild({
    model: modelFixture(config),
    cslrBinary: "/usr/local/bin/cslr",
    projectDir: "/p",
    outDir: "/p/_build",
    hostAddress: "192.0.2.10",
    version: "test",
    templates: embeddedTemplateSet(),
    tls: renderTls,
  });
  return { page: files.find((f) => f.name === "page.json"), compose: parse(files.find((f) => f.name === "compose.yaml")!.content) };
}

test("page.json names the heads' dashboard ports, the services by their compose names, links at this host, no secret", () => {
  const { page } = build();
  const config = pageConfigSchema.parse(JSON.parse(page!.content));
  expect(config.dashboardPorts).toEqual({ "ray-cpu": 8265, "ray-gpu": 8266 });
  expect(config.services.map((s) => [s.name, s.check, s.link])).toEqual([
    ["Redis", { tcp: "ray-redis:6379" }, undefined],
    ["PostgreSQL", { tcp: "mlflow-postgres:5432" }, undefined],
    ["MLflow", { http: "http://mlflow:5000/health" }, "http://192.0.2.10:5000"],
    ["Marimo", { http: "http://marimo:8080/health" }, "http://192.0.2.10:8080"],
  ]);
  expect(config.mlflow).toEqual({ api: "http://mlflow:5000", ui: "http://192.0.2.10:5000" });
  expect(page!.content).not.toMatch(/TOKEN|PASSWORD/);
});

test("the health service gets the file read-only with --page, and Ray's token from .env when Ray uses one", () => {
  const { compose } = build();
  const health = compose.services.health;
  expect(health.command.join(" ")).toContain("--page /opt/cslr/page.json");
  expect(health.volumes).toContainEqual({ type: "bind", source: "/p/_build/page.json", target: "/opt/cslr/page.json", read_only: true });
  expect(Object.keys(health.environment)).toContain("RAY_AUTH_TOKEN");
  expect(String(health.environment.RAY_AUTH_TOKEN)).toMatch(/^\$\{RAY_AUTH_TOKEN:\?/);
});

test("host networking adds the join line (the token stays an environment variable); no health service, no page file", () => {
  const { page } = build({ network: { mode: "host" } });
  expect(JSON.parse(page!.content).joinLine).toBe("cslr join https://192.0.2.10:8888 --token -");
  expect(build({ services: { health: { enabled: false } } } as never).page).toBeUndefined();
});
