/**
 * Every generated variant must be accepted by the real `docker compose config -q` (it needs
 * no engine). Skipped, visibly, where Compose v2 is not installed.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { fakeHealthBinary, makeProject, removeProject, runCli } from "../helpers/cli.ts";

const hasCompose = Bun.spawnSync(["docker", "compose", "version"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
if (!hasCompose) console.warn("SKIP compose-variants: `docker compose` (v2) is not installed; the YAML checks still run");

const projects: string[] = [];
afterAll(() => projects.forEach(removeProject));

const variants: { name: string; config: (binary: string) => string; nodes?: string; expectServices: string[] }[] = [
  {
    name: "everything on, GPU forced, 3 workers",
    config: (b) => `services:\n  health:\n    binary: ${b}\n  ray:\n    gpu:\n      enabled: true\n      gpus: 2\n    workers: 3\n`,
    expectServices: ["health", "marimo", "mlflow", "mlflow-postgres", "ray-cpu", "ray-gpu", "ray-redis", "ray-worker-1", "ray-worker-2", "ray-worker-3"],
  },
  {
    name: "defaults on a host without GPU",
    config: (b) => `services:\n  health:\n    binary: ${b}\n  ray:\n    gpu:\n      enabled: false\n`,
    expectServices: ["health", "marimo", "mlflow", "mlflow-postgres", "ray-cpu", "ray-redis"],
  },
  {
    name: "only Ray and the election service",
    config: (b) =>
      `services:\n  health:\n    binary: ${b}\n  ray:\n    gpu:\n      enabled: false\n  redis:\n    enabled: false\n  mlflow:\n    enabled: false\n  marimo:\n    enabled: false\n`,
    expectServices: ["health", "ray-cpu"],
  },
  {
    name: "fixed head address, no election service",
    // A head on another machine: this host's nodes must be on the host network to be dialled back.
    config: (b) => `network:\n  mode: host\nservices:\n  health:\n    enabled: false\n    binary: ${b}\n  ray:\n    gpu:\n      enabled: false\n`,
    nodes: "head_whitelist: [ray-cpu]\nhead_address: 10.1.2.3:6379\n",
    expectServices: ["marimo", "mlflow", "mlflow-postgres", "ray-cpu", "ray-redis"],
  },
  {
    name: "MLflow on SQLite, host folders for data, odd limits",
    config: (b) =>
      `services:\n  health:\n    binary: ${b}\n  ray:\n    cpu:\n      cpus: 0.5\n      memory: 3221225472\n      shm_size: 512m\n    gpu:\n      enabled: false\n  redis:\n    data_path: ./data/redis\n  mlflow:\n    artifacts_path: /srv/mlflow\n    postgres:\n      enabled: false\n  marimo:\n    notebooks_path: notebooks\n`,
    expectServices: ["health", "marimo", "mlflow", "ray-cpu", "ray-redis"],
  },
];

describe.each(variants)("variant: $name", (variant) => {
  test("generates and parses with the expected services", async () => {
    const dir = makeProject({ config: "", nodes: variant.nodes });
    projects.push(dir);
    await Bun.write(join(dir, "config.yaml"), variant.config(fakeHealthBinary(dir)));
    const result = await runCli(["generate"], { cwd: dir });
    expect(result.stderr).not.toContain("error");
    expect(result.exitCode).toBe(0);
    const composeFile = join(dir, "_build/compose.yaml");
    const doc = parse(readFileSync(composeFile, "utf8"));
    expect(Object.keys(doc.services).sort()).toEqual(variant.expectServices.sort());
    for (const name of variant.expectServices.filter((s) => ["ray-cpu", "ray-gpu", "ray-worker"].includes(s))) {
      expect(doc.services[name].shm_size).toBeDefined();
      // unless-stopped: the agent exits 0 on the SIGTERM of a stopping dockerd (a reboot), which on-failure never restarts.
      expect(doc.services[name].restart).toBe("unless-stopped");
    }
  });

  // Its own test, so a machine without Compose reports it skipped instead of passing half a test.
  test.skipIf(!hasCompose)("passes docker compose config -q", async () => {
    const dir = makeProject({ config: "", nodes: variant.nodes });
    projects.push(dir);
    await Bun.write(join(dir, "config.yaml"), variant.config(fakeHealthBinary(dir)));
    expect((await runCli(["generate"], { cwd: dir })).exitCode).toBe(0);
    const composeFile = join(dir, "_build/compose.yaml");
    const config = Bun.spawnSync(["docker", "compose", "-f", composeFile, "--env-file", join(dir, ".env"), "config", "-q"], {
      stderr: "pipe",
    });
    expect(config.stderr.toString()).toBe("");
    expect(config.exitCode).toBe(0);
  });
});
