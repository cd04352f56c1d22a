/**
 * `cslr init` makes the election service's certificate and key once (the key 0600) and keeps
 * them; `cslr generate` mounts them into the health container only, serves HTTPS with them,
 * and hands every Ray node the certificate's pin. Plain HTTP only when config.yaml asks.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { pinOfPem } from "../../src/election/tls.ts";
import { fakeHealthBinary, runCli } from "../helpers/cli.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function initProject(config = ""): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "cslr-tls-"));
  dirs.push(dir);
  writeFileSync(
    join(dir, "config.yaml"),
    `project:\n  name: tlslab\nservices:\n  health:\n    binary: ${fakeHealthBinary(dir)}\n${config}  ray:\n    gpu:\n      enabled: false\n`,
  );
  const init = await runCli(["init"], { cwd: dir });
  expect(init.exitCode).toBe(0);
  return dir;
}

type Service = {
  command?: string[];
  environment?: Record<string, string>;
  volumes?: { source: string; target: string; read_only: boolean }[];
  healthcheck?: { test: string[] };
};

async function generated(dir: string): Promise<{ services: Record<string, Service>; stderr: string }> {
  const result = await runCli(["generate"], { cwd: dir });
  expect(result.exitCode).toBe(0);
  return { services: parse(readFileSync(join(dir, "_build/compose.yaml"), "utf8")).services, stderr: result.stderr };
}

describe("the election service's certificate", () => {
  test("init writes it once, the key 0600, and keeps both when run again", async () => {
    const dir = await initProject();
    const cert = readFileSync(join(dir, "election-cert.pem"), "utf8");
    const key = readFileSync(join(dir, "election-key.pem"), "utf8");
    expect(pinOfPem(cert)).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(dir, "election-key.pem")).mode & 0o777).toBe(0o600);
    expect((await runCli(["init"], { cwd: dir })).exitCode).toBe(0);
    expect(readFileSync(join(dir, "election-cert.pem"), "utf8")).toBe(cert);
    expect(readFileSync(join(dir, "election-key.pem"), "utf8")).toBe(key);
  });

  test("generate: HTTPS with it in the health container only; every Ray node gets the pin", async () => {
    const dir = await initProject();
    const pin = pinOfPem(readFileSync(join(dir, "election-cert.pem"), "utf8"));
    const { services } = await generated(dir);
    const health = services.health!;
    expect(health.command).toContain("--tls-key");
    expect(health.healthcheck!.test.join(" ")).toContain(`--url https://127.0.0.1:8080 --pin ${pin}`);
    expect(health.volumes!.filter((v) => v.source.endsWith(".pem")).map((v) => [v.source, v.read_only])).toEqual([
      [join(dir, "election-cert.pem"), true],
      [join(dir, "election-key.pem"), true],
    ]);
    for (const [name, service] of Object.entries(services).filter(([n]) => n !== "health")) {
      expect(`${name}: ${JSON.stringify(service.volumes ?? [])}`).not.toContain("election-key.pem");
    }
    expect(services["ray-cpu"]!.environment).toMatchObject({ CSLR_HEALTH_URL: "https://health:8080", CSLR_HEALTH_PIN: pin });
  });

  test("generate without the certificate: exit 2, run cslr init", async () => {
    const dir = await initProject();
    rmSync(join(dir, "election-cert.pem"));
    const result = await runCli(["generate"], { cwd: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("election-cert.pem: missing");
    expect(result.stderr).toContain("cslr init");
  });

  test("services.health.tls: false is plain HTTP, with a warning", async () => {
    const dir = await initProject("    tls: false\n");
    const { services, stderr } = await generated(dir);
    expect(stderr).toContain("plain HTTP");
    expect(services.health!.command).not.toContain("--tls-key");
    expect(services["ray-cpu"]!.environment!.CSLR_HEALTH_URL).toBe("http://health:8080");
    expect(services["ray-cpu"]!.environment!.CSLR_HEALTH_PIN).toBeUndefined();
  });
});
