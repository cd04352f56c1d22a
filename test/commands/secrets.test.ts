/**
 * Secrets that existing data depends on: `cslr init` never writes a new POSTGRES_PASSWORD over
 * PostgreSQL data that holds the old one, and `cslr secrets rotate` changes a secret in `.env`,
 * POSTGRES_PASSWORD inside PostgreSQL first. Against the recording fake `docker`.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseDotenv, withSecrets } from "../../src/config/dotenv.ts";
import { alterRoleSql, servicesUsing } from "../../src/secrets/rotate.ts";
import { dotenvText, fakeHealthBinary, repoRoot, runCli, testSecrets, writeElectionCertificate } from "../helpers/cli.ts";
import { sandbox, type Sandbox } from "../fixtures/recorder.ts";

let box: Sandbox;
let project: string;

beforeEach(() => {
  box = sandbox();
  project = join(box.dir, "project");
  mkdirSync(project);
});
afterEach(() => box.cleanup());

const run = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: project, env: { ...box.env, ...env }, replaceEnv: true });
const envValues = () => Object.fromEntries(parseDotenv(readFileSync(join(project, ".env"), "utf8")));

/** The example config with a stand-in health binary, so `generate` needs no compiled cslr. */
function writeConfig(extra = ""): void {
  const example = readFileSync(join(repoRoot, "config.example.yaml"), "utf8").replace(
    "    lease_ttl: 30 ",
    `    binary: ${fakeHealthBinary(project)}\n    lease_ttl: 30 `,
  );
  writeFileSync(join(project, "config.yaml"), `${example}${extra}`);
  writeFileSync(join(project, "nodes.yaml"), readFileSync(join(repoRoot, "nodes.yaml"), "utf8"));
}

describe("cslr init over existing PostgreSQL data", () => {
  test("no .env but the project's volume exists: refuses, names the volume and the ways out, writes no secret", async () => {
    const result = await run(["init"], { FAKE_VOLUMES: "other_postgres-data cslr_postgres-data" });
    expect(result.exitCode).toBe(1);
    const message = result.stderr.trim().split("\n").at(-1)!;
    expect(message).toStartWith(
      `${join(project, ".env")} has no POSTGRES_PASSWORD, but volume cslr_postgres-data holds PostgreSQL data whose password is the earlier one`,
    );
    for (const way of ["Restore the .env", "cslr secrets rotate POSTGRES_PASSWORD", "cslr down -v"]) expect(message).toContain(way);
    expect(existsSync(join(project, ".env"))).toBe(false);
    // The other files are written as always.
    expect(existsSync(join(project, "config.yaml"))).toBe(true);
  });

  test("the volume of the project named in an existing config.yaml is the one asked for", async () => {
    writeFileSync(join(project, "config.yaml"), "project:\n  name: lab\n");
    expect((await run(["init"], { FAKE_VOLUMES: "cslr_postgres-data" })).exitCode).toBe(0);
    writeFileSync(join(project, ".env"), "");
    const result = await run(["init"], { FAKE_VOLUMES: "lab_postgres-data" });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("volume lab_postgres-data holds PostgreSQL data");
  });

  test("a data_path folder with PostgreSQL data counts too", async () => {
    mkdirSync(join(project, "pg"));
    writeFileSync(join(project, "pg/PG_VERSION"), "15\n");
    writeFileSync(join(project, "config.yaml"), "services:\n  mlflow:\n    postgres:\n      data_path: ./pg\n");
    const result = await run(["init"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`folder ${join(project, "pg")} holds PostgreSQL data`);
  });

  test("no data, or PostgreSQL off: .env is written", async () => {
    expect((await run(["init"], { FAKE_VOLUMES: "other_postgres-data" })).exitCode).toBe(0);
    expect(Object.keys(envValues())).toContain("POSTGRES_PASSWORD");
  });

  test("a .env that has the password: the volume is no reason to refuse", async () => {
    writeFileSync(join(project, ".env"), "POSTGRES_PASSWORD=kept\n", { mode: 0o600 });
    expect((await run(["init"], { FAKE_VOLUMES: "cslr_postgres-data" })).exitCode).toBe(0);
    expect(envValues().POSTGRES_PASSWORD).toBe("kept");
    expect(envValues().REDIS_PASSWORD).toBeString();
  });
});

describe("cslr secrets rotate", () => {
  beforeEach(() => {
    writeConfig();
    writeFileSync(join(project, ".env"), `# mine\n${dotenvText()}EXTRA=1\n`, { mode: 0o644 });
    writeElectionCertificate(project);
  });

  test("REDIS_PASSWORD: a new value, everything else kept, mode 0600, and who must be recreated", async () => {
    expect((await run(["generate"])).exitCode).toBe(0);
    const result = await run(["secrets", "rotate", "REDIS_PASSWORD"]);
    expect(result.exitCode).toBe(0);
    const values = envValues();
    expect(values.REDIS_PASSWORD).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(values.REDIS_PASSWORD).not.toBe(testSecrets.REDIS_PASSWORD);
    expect({ ...values, REDIS_PASSWORD: "x" } as Record<string, string>).toEqual({ ...testSecrets, REDIS_PASSWORD: "x", EXTRA: "1" });
    expect(readFileSync(join(project, ".env"), "utf8")).toStartWith("# mine\n");
    expect(statSync(join(project, ".env")).mode & 0o777).toBe(0o600);
    expect(result.stderr).toContain("REDIS_PASSWORD: used by ray-redis");
    expect(result.stderr).toContain("run cslr up -d (it recreates ray-redis, the services whose environment changed)");
    // Nothing to change outside .env: compose is not run.
    expect(box.records().filter((r) => !r.args.includes("version"))).toEqual([]);
  });

  test("POSTGRES_PASSWORD with PostgreSQL running: ALTER ROLE on psql's stdin, never in argv, then .env", async () => {
    expect((await run(["generate"])).exitCode).toBe(0);
    const ps = join(box.dir, "ps.json");
    writeFileSync(
      ps,
      JSON.stringify({ Service: "mlflow-postgres", Name: "cslr-mlflow-postgres-1", State: "running", Health: "healthy", ExitCode: 0, Status: "Up", Ports: "" }),
    );
    const stdin = join(box.dir, "stdin.sql");
    const result = await run(["secrets", "rotate", "POSTGRES_PASSWORD"], { FAKE_PS_FILE: ps, FAKE_STDIN_FILE: stdin });
    expect(result.exitCode).toBe(0);
    const value = envValues().POSTGRES_PASSWORD!;
    expect(value).not.toBe(testSecrets.POSTGRES_PASSWORD);
    expect(readFileSync(stdin, "utf8")).toBe(`ALTER ROLE "mlflow" WITH PASSWORD '${value}';\n`);
    const exec = box.records().find((r) => r.args.includes("exec"))!;
    expect(exec.args.slice(exec.args.indexOf("exec"))).toEqual([
      "exec",
      "-T",
      "mlflow-postgres",
      "psql",
      "-v",
      "ON_ERROR_STOP=1",
      "-q",
      "-U",
      "mlflow",
      "-d",
      "mlflow",
    ]);
    expect(JSON.stringify(box.records())).not.toContain(value);
    expect(result.stderr).toContain("POSTGRES_PASSWORD: used by mlflow-postgres, mlflow");
  });

  test("POSTGRES_PASSWORD when psql fails: .env is left as it was, and the steps by hand are given", async () => {
    expect((await run(["generate"])).exitCode).toBe(0);
    const before = readFileSync(join(project, ".env"), "utf8");
    const ps = join(box.dir, "ps.json");
    writeFileSync(ps, JSON.stringify({ Service: "mlflow-postgres", Name: "x", State: "running", Health: "", ExitCode: 0, Status: "Up", Ports: "" }));
    const result = await run(["secrets", "rotate", "POSTGRES_PASSWORD"], { FAKE_PS_FILE: ps, FAKE_EXEC_EXIT: "2" });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("ALTER ROLE in mlflow-postgres failed (psql: error: connection refused (fake)); nothing was changed. By hand:");
    expect(result.stderr).toContain("\\password mlflow");
    expect(readFileSync(join(project, ".env"), "utf8")).toBe(before);
    expect(existsSync(join(project, `.env.${process.pid}.tmp`))).toBe(false);
  });

  test("POSTGRES_PASSWORD with PostgreSQL stopped and no data yet: only .env changes", async () => {
    expect((await run(["generate"])).exitCode).toBe(0);
    const result = await run(["secrets", "rotate", "POSTGRES_PASSWORD"]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain("PostgreSQL has no data yet");
    expect(box.records().some((r) => r.args.includes("exec") || r.args.includes("up"))).toBe(false);
  });

  test("POSTGRES_PASSWORD with PostgreSQL stopped over existing data: started alone, changed, stopped again", async () => {
    expect((await run(["generate"])).exitCode).toBe(0);
    const result = await run(["secrets", "rotate", "POSTGRES_PASSWORD"], { FAKE_VOLUMES: "cslr_postgres-data" });
    expect(result.exitCode).toBe(0);
    const subs = box
      .records()
      .filter((r) => r.args[0] === "compose")
      .map((r) => r.args.slice(r.args.findIndex((a) => ["ps", "up", "exec", "stop"].includes(a)))[0]! + " " + r.args.at(-1));
    expect(subs.filter((s) => !s.startsWith("version"))).toEqual(["ps mlflow-postgres", "up mlflow-postgres", "exec mlflow", "stop mlflow-postgres"]);
  });

  test("without NAME: every secret the config uses", async () => {
    const result = await run(["secrets", "rotate"]);
    expect(result.exitCode).toBe(0);
    const values = envValues();
    for (const name of ["CSLR_CLUSTER_TOKEN", "REDIS_PASSWORD", "POSTGRES_PASSWORD", "MARIMO_TOKEN", "RAY_AUTH_TOKEN"] as const) {
      expect(values[name]).not.toBe(testSecrets[name]);
    }
    expect(values.EXTRA).toBe("1");
  });

  test("an unknown name is a usage error listing the secrets", async () => {
    const result = await run(["secrets", "rotate", "REDIS_PASS"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe(
      'unknown secret "REDIS_PASS"; expected one of: POSTGRES_PASSWORD, REDIS_PASSWORD, CSLR_CLUSTER_TOKEN, MARIMO_TOKEN, RAY_AUTH_TOKEN, RAY_REDIS_PASSWORD',
    );
  });
});

describe("pure parts", () => {
  test("withSecrets replaces each assignment in place and appends what is new", () => {
    expect(withSecrets("# c\nA=1\nREDIS_PASSWORD=old\nexport MARIMO_TOKEN=old\n", { REDIS_PASSWORD: "n1", MARIMO_TOKEN: "n2", RAY_AUTH_TOKEN: "n3" })).toBe(
      "# c\nA=1\nREDIS_PASSWORD=n1\nMARIMO_TOKEN=n2\nRAY_AUTH_TOKEN=n3\n",
    );
    expect(withSecrets("", { POSTGRES_PASSWORD: "p" })).toBe("# Secrets for cslr. Keep this file private (mode 0600); never commit it.\nPOSTGRES_PASSWORD=p\n");
  });

  test("servicesUsing finds the services whose environment refers to the secret", () => {
    const doc = {
      services: { a: { environment: { X: "${REDIS_PASSWORD:?set}" } }, b: { environment: ["Y=${REDIS_PASSWORD}"] }, c: { environment: { Z: "1" } }, d: null },
    };
    expect(servicesUsing(doc as any, "REDIS_PASSWORD")).toEqual(["a", "b"]);
  });

  test("alterRoleSql refuses anything that could leave the quotes", () => {
    expect(alterRoleSql("mlflow", "Ab12")).toBe(`ALTER ROLE "mlflow" WITH PASSWORD 'Ab12';\n`);
    expect(() => alterRoleSql("mlflow", "x'; DROP")).toThrow();
    expect(() => alterRoleSql('m"x', "Ab12")).toThrow();
  });
});
