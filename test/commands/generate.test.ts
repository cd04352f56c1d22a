import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { compiledCslr } from "../helpers/binary.ts";
import { dotenvText, fakeHealthBinary, makeProject, removeProject, repoRoot, runCli, testSecrets } from "../helpers/cli.ts";

const projects: string[] = [];
afterAll(() => projects.forEach(removeProject));

/** A project whose health binary is a stand-in file, so tests need no compiled cslr. */
function project(files: Parameters<typeof makeProject>[0] = {}): string {
  const dir = makeProject(files);
  projects.push(dir);
  if (files.config === undefined) {
    const config = readFileSync(join(dir, "config.yaml"), "utf8").replace("    lease_ttl: 30 ", `    binary: ${fakeHealthBinary(dir)}\n    lease_ttl: 30 `);
    writeFileSync(join(dir, "config.yaml"), config);
  }
  return dir;
}

function readAll(dir: string): string {
  return readdirSync(dir)
    .map((name) => readFileSync(join(dir, name), "utf8"))
    .join("\n");
}

describe("cslr generate", () => {
  test("writes _build/compose.yaml with every enabled service and an executable ray-ep.sh", async () => {
    const dir = project();
    const result = await runCli(["generate"], { cwd: dir });
    expect(result.exitCode).toBe(0);
    const compose = parse(readFileSync(join(dir, "_build/compose.yaml"), "utf8"));
    expect(Object.keys(compose.services).sort()).toEqual(["health", "marimo", "mlflow", "mlflow-postgres", "ray-cpu", "ray-redis"].sort());
    // Ray nodes do not depend on health: a change to it must not recreate them (their agents wait for it).
    expect(compose.services["ray-cpu"].depends_on).toBeUndefined();
    expect(statSync(join(dir, "_build/ray-ep.sh")).mode & 0o111).not.toBe(0);
  });

  test("no secret value from .env appears anywhere in _build/", async () => {
    const dir = project();
    expect((await runCli(["generate"], { cwd: dir })).exitCode).toBe(0);
    const everything = readAll(join(dir, "_build"));
    for (const value of Object.values(testSecrets)) expect(everything).not.toContain(value);
    for (const name of Object.keys(testSecrets)) expect(everything).toContain(`\${${name}:?`);
  });

  test("refuses, naming cslr init, when a needed secret is missing, and writes nothing", async () => {
    const dir = project({ env: "CSLR_CLUSTER_TOKEN=abc\n" });
    const result = await runCli(["generate"], { cwd: dir, env: { REDIS_PASSWORD: undefined, POSTGRES_PASSWORD: undefined, MARIMO_TOKEN: undefined } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("missing REDIS_PASSWORD (needed by services.redis)");
    expect(result.stderr).toContain("cslr init");
    expect(existsSync(join(dir, "_build"))).toBe(false);
  });

  test("--check exits 1 when _build/ is stale and 0 when fresh, writing nothing", async () => {
    const dir = project();
    expect((await runCli(["generate", "--check"], { cwd: dir })).exitCode).toBe(1);
    expect(existsSync(join(dir, "_build"))).toBe(false);
    expect((await runCli(["generate"], { cwd: dir })).exitCode).toBe(0);
    expect((await runCli(["generate", "--check"], { cwd: dir })).exitCode).toBe(0);
    writeFileSync(join(dir, "config.yaml"), readFileSync(join(dir, "config.yaml"), "utf8").replace("port: 6381", "port: 6391"));
    const stale = await runCli(["generate", "--check"], { cwd: dir });
    expect(stale.exitCode).toBe(1);
    expect(stale.stderr).toContain("compose.yaml");
  });

  test("--stdout prints compose.yaml on stdout and nothing else there", async () => {
    const dir = project();
    const result = await runCli(["generate", "--stdout"], { cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(parse(result.stdout).services["ray-cpu"]).toBeDefined();
    expect(existsSync(join(dir, "_build"))).toBe(false);
  });

  test("without config.yaml it uses the embedded example and says so in one line", async () => {
    const dir = project({ config: null, nodes: null });
    // Compiled, as users run it: the health container mounts the running binary.
    const result = await runCli(["generate", "--stdout"], { cli: [await compiledCslr()], cwd: dir, env: { CSLR_CLUSTER_TOKEN: "x" } });
    expect(result.exitCode).toBe(0);
    const notices = result.stderr.split("\n").filter((l) => l.includes("embedded example config.yaml"));
    expect(notices).toHaveLength(1);
  });

  test("a template override in ./templates wins and is announced; a broken one leaves _build/ alone", async () => {
    const dir = project();
    expect((await runCli(["generate"], { cwd: dir })).exitCode).toBe(0);
    const before = readFileSync(join(dir, "_build/compose.yaml"), "utf8");
    expect((await runCli(["templates", "eject"], { cwd: dir })).exitCode).toBe(0);
    const override = join(dir, "templates/compose.yaml.eta");
    writeFileSync(override, readFileSync(override, "utf8").replace("services:", "x-custom: true\nservices:"));
    const ok = await runCli(["generate"], { cwd: dir });
    expect(ok.exitCode).toBe(0);
    expect(ok.stderr).toContain("using template override");
    expect(parse(readFileSync(join(dir, "_build/compose.yaml"), "utf8"))["x-custom"]).toBe(true);

    const good = readFileSync(join(dir, "_build/compose.yaml"), "utf8");
    writeFileSync(override, "services: [unclosed\n  - <%= it.project %>\n");
    const broken = await runCli(["generate"], { cwd: dir });
    expect(broken.exitCode).toBe(1);
    expect(broken.stderr).toContain("not valid YAML");
    expect(readFileSync(join(dir, "_build/compose.yaml"), "utf8")).toBe(good);
    expect(good).not.toBe(before);
  });

  test("templates eject refuses to overwrite without --force", async () => {
    const dir = project();
    expect((await runCli(["templates", "eject"], { cwd: dir })).exitCode).toBe(0);
    const again = await runCli(["templates", "eject"], { cwd: dir });
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain("--force");
    expect((await runCli(["templates", "eject", "--force"], { cwd: dir })).exitCode).toBe(0);
  });
});

describe("cslr init", () => {
  test("writes config.yaml with the $schema comment first, nodes.yaml, schemas and a private .env", async () => {
    const dir = project({ config: null, nodes: null, env: null });
    const result = await runCli(["init"], { cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(readFileSync(join(dir, "config.yaml"), "utf8").split("\n")[0]).toBe("# yaml-language-server: $schema=./config.schema.json");
    expect(JSON.parse(readFileSync(join(dir, "config.schema.json"), "utf8")).type).toBe("object");
    expect(JSON.parse(readFileSync(join(dir, "nodes.schema.json"), "utf8")).type).toBe("object");
    expect(statSync(join(dir, ".env")).mode & 0o777).toBe(0o600);
    const env = readFileSync(join(dir, ".env"), "utf8");
    for (const name of ["POSTGRES_PASSWORD", "REDIS_PASSWORD", "CSLR_CLUSTER_TOKEN", "MARIMO_TOKEN"]) {
      expect(env).toMatch(new RegExp(`^${name}=[A-Za-z0-9]{32}$`, "m"));
    }
  });

  test("never overwrites an existing secret, adds only the missing ones", async () => {
    const dir = project({ config: null, nodes: null, env: "REDIS_PASSWORD=keep-me\n" });
    expect((await runCli(["init"], { cwd: dir })).exitCode).toBe(0);
    expect((await runCli(["init", "--force"], { cwd: dir })).exitCode).toBe(0);
    const env = readFileSync(join(dir, ".env"), "utf8");
    expect(env).toContain("REDIS_PASSWORD=keep-me\n");
    expect(env.match(/^REDIS_PASSWORD=/gm)).toHaveLength(1);
    expect(env.match(/^CSLR_CLUSTER_TOKEN=/gm)).toHaveLength(1);
  });

  test("keeps an edited config.yaml unless --force", async () => {
    const dir = project({ config: "project:\n  name: mine\n", nodes: null, env: null });
    expect((await runCli(["init"], { cwd: dir })).exitCode).toBe(0);
    expect(readFileSync(join(dir, "config.yaml"), "utf8")).toBe("project:\n  name: mine\n");
  });
});

describe("cslr schema", () => {
  test("prints the JSON Schema of config.yaml and of nodes.yaml", async () => {
    const config = JSON.parse((await runCli(["schema"], { cwd: repoRoot })).stdout);
    expect(config.properties.services.properties.ray.properties.cpu.properties.dashboard_port.default).toBe(8265);
    const nodes = JSON.parse((await runCli(["schema", "--nodes"], { cwd: repoRoot })).stdout);
    expect(nodes.required).toContain("head_whitelist");
  });
});

void mkdirSync;
void dotenvText;
