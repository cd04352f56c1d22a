/**
 * `cslr status` from `_build/` when config.yaml has an error: the facts read back from the
 * generated compose file are the ones the model gives, and the CLI reports the running stack
 * with the config's problems as a warning.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { ComposeDoc } from "../../src/compose/target.ts";
import type { ConfigInput, NodesInput } from "../../src/config/schema.ts";
import { embeddedTemplateSet, renderBuild } from "../../src/render/render.ts";
import { stackFactsOfCompose, stackFactsOfModel, type StackFacts } from "../../src/status/stack.ts";
import { dotenvText, fakeHealthBinary, runCli, testElectionCertificate, writeElectionCertificate } from "../helpers/cli.ts";
import { modelFixture, renderTls } from "../helpers/model.ts";
import { sandbox, type Sandbox } from "../fixtures/recorder.ts";

function composeOf(config: ConfigInput, nodes?: NodesInput): { doc: ComposeDoc; facts: StackFacts } {
  const model = modelFixture(config, nodes);
  const [file] = renderBuild({
    model,
    cslrBinary: "/c",
    projectDir: "/p",
    outDir: "/p/_build",
    hostAddress: "10.0.0.5",
    version: "0",
    tls: renderTls,
    templates: embeddedTemplateSet(),
  });
  return { doc: parse(file!.content) as ComposeDoc, facts: stackFactsOfModel(model, renderTls.pin) };
}

describe("the facts in _build/compose.yaml are the model's", () => {
  test.each([
    ["one workstation, defaults", {}, undefined],
    [
      "a GPU node, workers, odd ports, loopback",
      {
        network: { bind_address: "127.0.0.1" },
        services: { health: { port: 9999 }, ray: { gpu: { enabled: true, dashboard_port: 9266 }, workers: 2 }, marimo: { enabled: false } },
      },
      undefined,
    ],
    [
      "a member workstation (host networking, the election elsewhere)",
      { network: { mode: "host" }, host: { name: "ws2", address: "10.0.0.12" }, services: { health: { enabled: false }, redis: { enabled: false } } },
      { head_whitelist: ["ray-cpu"], health_service: { url: "http://10.0.0.11:8888" } },
    ],
  ] as [string, ConfigInput, NodesInput | undefined][])("%s", (_name, config, nodes) => {
    const { doc, facts } = composeOf(config, nodes);
    const back = stackFactsOfCompose(doc, "elsewhere");
    // The compose file knows the head ports of the nodes it runs; the model knows both services'.
    const local = Object.fromEntries(Object.entries(facts.headPorts).filter(([service]) => back.headPorts[service]));
    expect({ ...back, headPorts: back.headPorts }).toEqual({ ...facts, headPorts: local });
  });
});

describe("cslr status with an error in config.yaml", () => {
  let box: Sandbox;
  let project: string;
  let server: ReturnType<typeof Bun.serve>;
  const head = { node: "ray-cpu", address: "ray-cpu:6379", term: 2, since: "2026-01-01T00:00:00Z", ready: true };

  beforeEach(async () => {
    box = sandbox();
    project = join(box.dir, "project");
    mkdirSync(project);
    server = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: testElectionCertificate(), fetch: () => Response.json({ head, term: 2, workers: [] }) });
    writeFileSync(
      join(project, "config.yaml"),
      `project:\n  name: lab\nservices:\n  health:\n    port: ${server.port}\n    binary: ${fakeHealthBinary(project)}\n  ray:\n    gpu:\n      enabled: false\n`,
    );
    writeFileSync(join(project, "nodes.yaml"), "head_whitelist: [ray-cpu]\n");
    writeFileSync(join(project, ".env"), dotenvText(), { mode: 0o600 });
    writeElectionCertificate(project);
    expect((await runCli(["generate"], { cwd: project, env: box.env, replaceEnv: true })).exitCode).toBe(0);
    const ps = join(box.dir, "ps.json");
    writeFileSync(
      ps,
      [
        { Service: "health", Name: "lab-health-1", State: "running", Health: "healthy", Status: "Up" },
        { Service: "ray-cpu", Name: "lab-ray-cpu-1", State: "running", Health: "", Status: "Up" },
      ]
        .map((r) => JSON.stringify(r))
        .join("\n"),
    );
    box.env.FAKE_PS_FILE = ps;
    // An edit since `up` that breaks the config.
    writeFileSync(join(project, "config.yaml"), readFileSync(join(project, "config.yaml"), "utf8").replace("    port: ", "    prot: "));
  });
  afterEach(() => {
    server.stop(true);
    box.cleanup();
  });

  test("reports the running stack from _build/, the config problem as a warning, exit 0 with a ready head", async () => {
    const result = await runCli(["status", "--json", "--host", "10.1.2.3"], { cwd: project, env: box.env, replaceEnv: true });
    expect(result.stderr).toContain("the config has problems (fix them before `cslr up`); status is read from");
    expect(result.stderr).toContain('config.yaml:5:5  services.health.prot  unknown key "prot"; did you mean "port"?');
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ project: "lab", head, mode: "bridge" });
    expect(report.endpoints).toMatchObject({ rayDashboard: "http://10.1.2.3:8265", health: `https://10.1.2.3:${server.port}`, mlflow: "http://10.1.2.3:5000" });
    expect(report.services.map((s: { service: string }) => s.service)).toEqual(["health", "ray-cpu"]);
  });

  test("no ready head: exit 3; the election service unreachable: exit 1", async () => {
    const port = server.port;
    server.stop(true);
    server = Bun.serve({ hostname: "127.0.0.1", port, tls: testElectionCertificate(), fetch: () => Response.json({ head: null, term: 2, workers: [] }) });
    expect((await runCli(["status"], { cwd: project, env: box.env, replaceEnv: true })).exitCode).toBe(3);
    server.stop(true);
    const result = await runCli(["status"], { cwd: project, env: box.env, replaceEnv: true });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain("Ray head: unknown");
  });

  test("with no _build/ either, the config error is the answer (exit 2)", async () => {
    const result = await runCli(["status", "--out", "elsewhere"], { cwd: project, env: box.env, replaceEnv: true });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('unknown key "prot"');
  });
});
