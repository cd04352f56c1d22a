/**
 * The CLI's contract, checked on the compiled binary (what users run): strict words, help,
 * version, completion, the compose commands' argv and --json documents. Compose is the
 * argument-recording fake (test/fixtures/bin/docker), alone on PATH.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { compiledCslr } from "./helpers/binary.ts";
import { runCli, type CliResult } from "./helpers/cli.ts";
import { sandbox, writeProject, type Recorded, type Sandbox } from "./fixtures/recorder.ts";

let cslr: string;
beforeAll(async () => {
  cslr = await compiledCslr();
});

let box: Sandbox;
let project: string;
const name = "cli-binary";
beforeEach(() => {
  box = sandbox();
  project = join(box.dir, "project");
  mkdirSync(project);
  writeProject(project, { name, ports: { health: [18888], redis: [16381], "ray-worker": [] } });
});
afterEach(() => box.cleanup());

function run(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(args, { cli: [cslr], cwd: project, env: { ...box.env, ...env }, replaceEnv: true });
}

/** The compose subcommands run, without the version probe and the engine check; from the subcommand on. */
function composeCalls(): string[][] {
  return box
    .records()
    .filter((r: Recorded) => r.args[0] === "compose" && !r.args.includes("version"))
    .map((r) => r.args.slice(r.args.indexOf("--env-file") + 2));
}

describe("values never slide into positionals", () => {
  test("logs health --since 45s passes --since 45s to compose, health stays the service", async () => {
    const result = await run(["logs", "health", "--since", "45s"]);
    expect(result.exitCode).toBe(0);
    // The CLI runs under NO_COLOR=1 here: plain logs (--no-color, and no ESC[2K).
    expect(composeCalls()).toEqual([["logs", "--since", "45s", "--no-color", "health"]]);
  });

  test("logs -n 5 -t --until TIME redis", async () => {
    const result = await run(["logs", "-n", "5", "-t", "--until", "2026-01-02T13:23:37Z", "redis"]);
    expect(result.exitCode).toBe(0);
    expect(composeCalls()).toEqual([["logs", "--tail", "5", "--until", "2026-01-02T13:23:37Z", "--timestamps", "--no-color", "redis"]]);
  });

  test("a bad --since is exit 2 before compose runs", async () => {
    const result = await run(["logs", "health", "--since", "soon"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe('--since "soon": expected a duration like 45s or 2h, or a time like 2026-01-02T13:23:37Z');
    expect(composeCalls()).toEqual([]);
  });

  test("down --volume (typo) is exit 2 with did-you-mean --volumes", async () => {
    const result = await run(["down", "--volume"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe('cslr down: unknown option "--volume"; did you mean "--volumes"?');
    expect(composeCalls()).toEqual([]);
  });

  test("an option missing its value names the value it needs", async () => {
    const result = await run(["logs", "--since", "--follow"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe("cslr logs: --since needs a value (TIME)");
  });

  test("exec --config FILE SERVICE CMD: FILE is --config's, SERVICE and CMD go to compose", async () => {
    const result = await run(["exec", "--config", "config.yaml", "redis", "redis-cli", "--since", "x"]);
    expect(result.exitCode).toBe(0);
    expect(composeCalls()).toEqual([["exec", "-T", "redis", "redis-cli", "--since", "x"]]);
  });
});

describe("help and version", () => {
  test.each([
    [["help"], ["--help"]],
    [
      ["help", "up"],
      ["up", "--help"],
    ],
    [
      ["help", "jobs", "logs"],
      ["jobs", "logs", "--help"],
    ],
    [
      ["help", "health", "serve"],
      ["health", "serve", "-h"],
    ],
  ])("%j prints what %j prints, exit 0", async (help, flag) => {
    const [a, b] = await Promise.all([run(help), run(flag)]);
    expect(a.exitCode).toBe(0);
    expect(b.exitCode).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toContain("USAGE");
  });

  test.each([
    [["help", "upp"], 'cslr: unknown command "upp"; did you mean "up"?'],
    [["help", "jobs", "lgos"], 'cslr jobs: unknown command "lgos"; did you mean "logs"?'],
    [["help", "exec", "ray-cpu"], 'cslr help: cslr exec has no subcommand "ray-cpu"; expected `cslr help exec`'],
  ])("%j is exit 2: %s", async (args, message) => {
    const result = await run(args);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe(message);
  });

  test("version and --version print the same plain line", async () => {
    const [plain, flag, viaCitty] = await Promise.all([run(["version"]), run(["--version"]), run(["version", "--quiet"])]);
    const expected = `${(await Bun.file(join(import.meta.dir, "../package.json")).json()).version}\n`;
    expect([plain.stdout, flag.stdout, viaCitty.stdout]).toEqual([expected, expected, expected]);
  });

  test("version --json", async () => {
    const result = await run(["version", "--json"]);
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report)).toEqual(["schemaVersion", "version", "bun", "platform", "arch"]);
    expect(report).toMatchObject({ schemaVersion: 1, bun: Bun.version, platform: process.platform, arch: process.arch });
  });
});

describe("start, stop, restart", () => {
  test.each([
    [["start"], ["start"]],
    [
      ["start", "redis", "health"],
      ["start", "redis", "health"],
    ],
    [
      ["stop", "-t", "5", "redis"],
      ["stop", "--timeout", "5", "redis"],
    ],
    [
      ["stop", "redis", "--timeout=0"],
      ["stop", "--timeout", "0", "redis"],
    ],
    [
      ["restart", "--timeout", "30"],
      ["restart", "--timeout", "30"],
    ],
    [
      ["restart", "health"],
      ["restart", "health"],
    ],
  ])("%j runs compose %j on the project", async (args, expected) => {
    const result = await run(args);
    expect(result.exitCode).toBe(0);
    expect(composeCalls()).toEqual([expected]);
  });

  test("--dry-run prints the command line", async () => {
    const result = await run(["stop", "--dry-run", "-t", "3", "redis"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(
      `docker compose -f ${join(project, "_build/compose.yaml")} -p ${name} --env-file ${join(project, ".env")} stop --timeout 3 redis\n`,
    );
    expect(composeCalls()).toEqual([]);
  });

  test.each([["start"], ["stop"], ["restart"]])("%s of an unknown service is exit 2 listing the services", async (command) => {
    const result = await run([command, "redis", "rediss"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe(`no service rediss in ${join(project, "_build/compose.yaml")}; expected one of: health, redis, ray-worker`);
    expect(composeCalls()).toEqual([]);
  });

  test.each([["stop"], ["restart"]])("%s -t with a bad number is exit 2", async (command) => {
    const result = await run([command, "-t", "soon"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe('--timeout "soon": expected whole seconds, like --timeout 10');
  });

  test("start takes no --timeout, as compose", async () => {
    const result = await run(["start", "-t", "5"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toStartWith('cslr start: unknown option "-t"');
  });
});

describe("--index N: one replica", () => {
  const idOf = (n: number) => String(n).repeat(64);
  const replicas = { FAKE_REPLICAS: `1:${idOf(1)} 2:${idOf(2)}` };

  test("exec --index 2 SERVICE CMD passes --index to compose", async () => {
    const result = await run(["exec", "--index", "2", "redis", "redis-cli", "ping"]);
    expect(result.exitCode).toBe(0);
    expect(composeCalls()).toEqual([["exec", "-T", "--index", "2", "redis", "redis-cli", "ping"]]);
  });

  test("logs --index 2 SERVICE uses compose's own --index (Compose >= 2.24)", async () => {
    const result = await run(["logs", "-f", "--index", "2", "redis"]);
    expect(result.exitCode).toBe(0);
    expect(composeCalls()).toEqual([["logs", "--follow", "--index", "2", "redis"]]);
  });

  test("with an older Compose, logs --index finds the replica by its labels and runs docker logs", async () => {
    const result = await run(["logs", "--tail", "5", "--index", "2", "redis"], { ...replicas, FAKE_COMPOSE_VERSION: "2.20.2" });
    expect(result.exitCode).toBe(0);
    const docker = box
      .records()
      .filter((r) => r.args[0] === "ps" || r.args[0] === "logs")
      .map((r) => r.args);
    expect(docker[0]).toContain(`label=com.docker.compose.container-number=2`);
    expect(docker[0]).toContain(`label=com.docker.compose.project=${name}`);
    expect(docker.at(-1)).toEqual(["logs", "--tail", "5", idOf(2)]);
    expect(composeCalls()).toEqual([]);
  });

  test("with an older Compose, a replica that does not exist is exit 1 naming those that do", async () => {
    const result = await run(["logs", "--index", "3", "redis"], { ...replicas, FAKE_COMPOSE_VERSION: "2.20.2" });
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim().split("\n").at(-1)).toBe("redis has no replica 3; its replicas are 1, 2");
  });

  test("with an older Compose, --dry-run prints one line a shell can run", async () => {
    const result = await run(["logs", "--dry-run", "--index", "2", "redis"], { FAKE_COMPOSE_VERSION: "2.20.2" });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(
      `docker logs "$(docker ps --all --quiet --no-trunc --filter label=com.docker.compose.project=${name} --filter label=com.docker.compose.service=redis --filter label=com.docker.compose.oneoff=False --filter label=com.docker.compose.container-number=2)"\n`,
    );
  });

  test.each([
    [["exec", "--index", "0", "redis", "ls"], '--index "0": expected a replica number from 1, like --index 2'],
    [["logs", "--index", "two", "redis"], '--index "two": expected a replica number from 1, like --index 2'],
    [["logs", "--index", "-1", "redis"], '--index "-1": expected a replica number from 1, like --index 2'],
    [["logs", "--index", "2"], "cslr logs: --index needs exactly one SERVICE, like `cslr logs --index 2 ray-worker` (got 0)"],
    [["logs", "--index", "2", "redis", "health"], "cslr logs: --index needs exactly one SERVICE, like `cslr logs --index 2 ray-worker` (got 2)"],
    [["exec", "--index", "2", "rediss", "ls"], "no service rediss in"],
  ])("%j is exit 2: %s", async (args, message) => {
    const result = await run(args);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toStartWith(message);
    expect(composeCalls()).toEqual([]);
  });
});

describe("--json documents", () => {
  test("doctor --json: { schemaVersion, ok, checks }, exit 1 on a failure", async () => {
    const result = await run(["doctor", "--json"], { FAKE_ENGINE: "down" });
    expect(result.exitCode).toBe(1);
    const document = JSON.parse(result.stdout);
    expect(Object.keys(document)).toEqual(["schemaVersion", "ok", "checks"]);
    expect(document).toMatchObject({ schemaVersion: 1, ok: false });
    expect(document.checks.find((c: { id: string }) => c.id === "engine")).toMatchObject({ status: "fail" });
  });

  test("ps --json: { schemaVersion, containers }, never a bare array", async () => {
    const result = await run(["ps", "--json"]);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ schemaVersion: 1, containers: [] });
  });

  test("ports --json starts with schemaVersion", async () => {
    // ports reads the config: the example one, with the recorder's project name.
    const { cpSync } = await import("node:fs");
    cpSync(join(import.meta.dir, "../config.example.yaml"), join(project, "config.yaml"));
    cpSync(join(import.meta.dir, "../nodes.yaml"), join(project, "nodes.yaml"));
    const result = await run(["ports", "--json"]);
    expect(result.exitCode).toBe(0);
    const document = JSON.parse(result.stdout);
    expect(Object.keys(document).slice(0, 2)).toEqual(["schemaVersion", "host"]);
    expect(document.ports[0]).toHaveProperty("service");
  });
});

describe("--quiet", () => {
  test("down --quiet tells compose --progress quiet; without it, compose shows its progress", async () => {
    expect((await run(["down", "--quiet"])).exitCode).toBe(0);
    expect((await run(["down"])).exitCode).toBe(0);
    expect(composeCalls()).toEqual([["--progress", "quiet", "down"], ["down"]]);
  });

  test("a Compose older than 2.19 has no --progress: --quiet leaves its argv alone", async () => {
    expect((await run(["stop", "--quiet"], { FAKE_COMPOSE_VERSION: "2.18.1" })).exitCode).toBe(0);
    expect(composeCalls()).toEqual([["stop"]]);
  });

  test("init and generate --quiet print nothing; without --quiet they say what they wrote", async () => {
    const { mkdtempSync } = await import("node:fs");
    const dir = mkdtempSync(join(box.dir, "init-"));
    const quiet = await runCli(["init", "--quiet"], { cli: [cslr], cwd: dir, env: box.env, replaceEnv: true });
    expect({ code: quiet.exitCode, stderr: quiet.stderr, stdout: quiet.stdout }).toEqual({ code: 0, stderr: "", stdout: "" });
    const loud = await runCli(["init"], { cli: [cslr], cwd: dir, env: box.env, replaceEnv: true });
    expect(loud.stderr).toContain("kept");
  });

  test("errors still print under --quiet", async () => {
    const result = await run(["restart", "--quiet", "nosuch"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toStartWith("no service nosuch in");
  });
});
