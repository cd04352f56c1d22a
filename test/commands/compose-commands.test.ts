/**
 * The compose commands run as real subprocesses of the compiled binary (what users run; a
 * `bun src/cli.ts` variant ran every case again at three times the start-up cost, and checked
 * nothing the binary does not) against the argument-recording fake `docker`
 * (test/fixtures/bin/docker), alone on PATH.
 * They use --no-generate or commands that read an existing `_build/compose.yaml`, so they do
 * not depend on config rendering; runs against a real engine live in test/e2e.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compiledCslr } from "../helpers/binary.ts";
import { runCli, testElectionCertificate, writeElectionCertificate } from "../helpers/cli.ts";
import { freePort } from "../helpers/ports.ts";
import { sandbox, writeProject, type Sandbox } from "../fixtures/recorder.ts";

const rows: [variant: string, argv: string[]][] = [["binary", [await compiledCslr()]]];

/** Only the compose subcommands, without the version probes and the engine check. */
function composeCalls(box: Sandbox) {
  return box.records().filter((r) => !r.args.includes("version") && r.args[0] !== "info");
}

describe.each(rows)("cslr compose commands (%s)", (variant, argv) => {
  const it = test;
  let box: Sandbox;
  let project: string;
  const name = `cslr-rec-${variant}`;

  beforeEach(() => {
    box = sandbox();
    project = join(box.dir, "project");
    mkdirSync(project);
    writeProject(project, { name, ports: { redis: [16381], health: [18888] } });
  });
  afterEach(() => box.cleanup());

  const run = (args: string[], env: Record<string, string> = {}, cwd = project) =>
    runCli(args, { cli: argv, cwd, env: { ...box.env, ...env }, replaceEnv: true });

  it("down passes file, project name and .env, and runs in the config's folder", async () => {
    const sub = join(project, "notebooks");
    mkdirSync(sub);
    const result = await run(["down", "-v", "--remove-orphans", "--config", "../config.yaml", "--out", "../_build"], {}, sub);
    expect(result.stderr).toContain("[docker recorder]");
    expect(result.exitCode).toBe(0);
    const calls = composeCalls(box);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args).toEqual([
      "compose",
      "-f",
      join(project, "_build/compose.yaml"),
      "-p",
      name,
      "--env-file",
      join(project, ".env"),
      "down",
      "--volumes",
      "--remove-orphans",
    ]);
    expect(calls[0]!.cwd).toBe(project);
  });

  it("--dry-run prints the command line and runs nothing (the CLI runs under NO_COLOR=1: --no-color)", async () => {
    const result = await run(["logs", "--dry-run", "-f", "--tail", "5", "redis"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe(
      `docker compose -f ${join(project, "_build/compose.yaml")} -p ${name} --env-file ${join(project, ".env")} logs --follow --tail 5 --no-color redis`,
    );
    expect(composeCalls(box)).toEqual([]);
  });

  it("the child's exit code is cslr's exit code", async () => {
    const result = await run(["logs", "redis"], { FAKE_EXIT: "7" });
    expect(result.exitCode).toBe(7);
  });

  it("a stopped engine gets one clear line and compose is not run", async () => {
    const result = await run(["ps"], { FAKE_ENGINE: "down" });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      "Docker engine is not running (docker info failed: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?). Start it: sudo systemctl start docker",
    );
    expect(composeCalls(box)).toEqual([]);
  });

  it("no compose at all: says what is missing and how to install it", async () => {
    const result = await run(["ps"], { FAKE_COMPOSE: "missing" });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("no Docker Compose found: install Compose v2 (https://docs.docker.com/compose/install/");
  });

  it("a v1 docker-compose is refused as too old", async () => {
    symlinkFake(box, "docker-compose");
    const result = await run(["ps"], { FAKE_COMPOSE: "missing", FAKE_COMPOSE_VERSION: "1.29.2" });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("docker-compose 1.29.2 is Compose v1, which is too old");
  });

  it("falls back to a v2 docker-compose, then to podman compose", async () => {
    symlinkFake(box, "docker-compose");
    expect((await run(["down"], { FAKE_COMPOSE: "missing" })).exitCode).toBe(0);
    expect(composeCalls(box).map((c) => [c.program, c.args.at(-1)])).toEqual([["docker-compose", "down"]]);

    const podmanOnly = sandbox(["podman"]);
    try {
      const result = await runCli(["down"], { cli: argv, cwd: project, env: podmanOnly.env, replaceEnv: true });
      expect(result.exitCode).toBe(0);
      const calls = podmanOnly.records().map((r) => [r.program, ...r.args.filter((a) => !a.startsWith("/"))]);
      expect(calls).toContainEqual(["podman", "compose", "-f", "-p", name, "--env-file", "down"]);
    } finally {
      podmanOnly.cleanup();
    }
  });

  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    it(`${signal} sent to cslr reaches compose (logs -f stops cleanly)`, async () => {
      const ready = join(box.dir, "ready");
      const proc = Bun.spawn([...argv!, "logs", "-f"], {
        cwd: project,
        env: { ...box.env, FAKE_HANG: "1", FAKE_READY_FILE: ready },
        stdout: "pipe",
        stderr: "pipe",
      });
      try {
        for (let i = 0; i < 200 && !existsSync(ready); i++) await Bun.sleep(25);
        expect(existsSync(ready)).toBe(true);
        proc.kill(signal);
        const [stdout, exit] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
        expect(stdout).toContain(`[docker recorder] received ${signal}`);
        expect(exit).toBe(code);
      } finally {
        proc.kill("SIGKILL");
      }
    });
  }

  it("ps --json gives { schemaVersion, containers } with normalised rows on stdout", async () => {
    const psFile = join(box.dir, "ps.json");
    writeFileSync(
      psFile,
      [
        { Service: "redis", Name: `${name}-redis-1`, State: "running", Health: "", ExitCode: 0, Status: "Up 2 minutes", Ports: "0.0.0.0:16381->6379/tcp" },
        { Service: "health", Name: `${name}-health-1`, State: "running", Health: "healthy", ExitCode: 0, Status: "Up 2 minutes (healthy)", Ports: "" },
      ]
        .map((r) => JSON.stringify(r))
        .join("\n"),
    );
    const result = await run(["ps", "--json"], { FAKE_PS_FILE: psFile });
    expect(result.exitCode).toBe(0);
    const document = JSON.parse(result.stdout) as { schemaVersion: number; containers: { service: string; container: string; health: string }[] };
    expect(Object.keys(document)).toEqual(["schemaVersion", "containers"]);
    expect(document.schemaVersion).toBe(1);
    expect(document.containers.map((r) => [r.service, r.container, r.health])).toEqual([
      ["redis", `${name}-redis-1`, ""],
      ["health", `${name}-health-1`, "healthy"],
    ]);
    expect(Object.keys(document.containers[0]!)).toEqual(["service", "container", "state", "health", "exitCode", "status", "ports"]);
  });

  it("exec passes the command through untouched, with -T when stdin is not a terminal", async () => {
    const result = await run(["exec", "redis", "ray", "status", "--config", "x", "--verbose"]);
    expect(result.exitCode).toBe(0);
    expect(composeCalls(box)[0]!.args.slice(7)).toEqual(["exec", "-T", "redis", "ray", "status", "--config", "x", "--verbose"]);
  });

  it("compose -- ARGS is an escape hatch with the right flags", async () => {
    const result = await run(["compose", "--", "config", "--services"]);
    expect(result.exitCode).toBe(0);
    expect(composeCalls(box)[0]!.args.slice(1, 5)).toEqual(["-f", join(project, "_build/compose.yaml"), "-p", name]);
    expect(composeCalls(box)[0]!.args.slice(7)).toEqual(["config", "--services"]);
  });

  it("without a generated compose file it says what to run", async () => {
    const empty = join(box.dir, "empty");
    mkdirSync(empty);
    const result = await run(["down"], {}, empty);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("no generated compose file at");
    expect(result.stderr).toContain("run `cslr up`");
  });

  it("bad --tail and bad --wait are usage errors", async () => {
    expect((await run(["logs", "--tail", "ten"])).exitCode).toBe(2);
    const wait = await run(["up", "--no-generate", "--wait", "--wait-timeout", "soon"]);
    expect(wait.exitCode).toBe(2);
    expect(wait.stderr).toContain('--wait-timeout "soon": expected a duration like 120, 120s or 5m');
  });

  it("up refuses a host port that is in use, naming service and port, before compose runs", async () => {
    const holder = Bun.listen({ hostname: "0.0.0.0", port: 0, socket: { data() {} } });
    try {
      writeProject(project, { name, ports: { redis: [holder.port], health: [18888] } });
      const result = await run(["up", "-d", "--no-generate"], { FAKE_PS_FILE: emptyPs(box) });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`host port ${holder.port} (service redis) is already in use`);
      expect(composeCalls(box).some((c) => c.args.includes("up"))).toBe(false);
    } finally {
      holder.stop(true);
    }
  });

  it("the generation compose accepted is what runs: a failed up of a renamed project leaves down aimed at the running one", async () => {
    const applied = join(project, "_build/applied/compose.yaml");
    expect((await run(["up", "-d", "--no-generate"])).exitCode).toBe(0);
    expect(readFileSync(applied, "utf8")).toStartWith(`name: ${name}\n`);

    // project.name changed (a new _build/compose.yaml) while the old stack runs: refused, nothing started.
    writeProject(project, { name: `${name}-renamed`, ports: { redis: [16381] } });
    const psFile = join(box.dir, "ps.json");
    writeFileSync(psFile, JSON.stringify({ Service: "redis", Name: `${name}-redis-1`, State: "running" }));
    const callsBefore = composeCalls(box).length;
    const refused = await run(["up", "-d", "--no-generate"], { FAKE_PS_FILE: psFile });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`project.name changed from ${name} to ${name}-renamed while ${name} runs: stop it first with \`cslr down\``);
    expect(
      composeCalls(box)
        .slice(callsBefore)
        .some((c) => c.args.includes("up")),
    ).toBe(false);

    // Old stack stopped, and compose fails the new one: the applied generation stays.
    expect((await run(["up", "-d", "--no-generate"], { FAKE_EXIT: "1" })).exitCode).toBe(1);
    expect(readFileSync(applied, "utf8")).toStartWith(`name: ${name}\n`);
    expect((await run(["down"])).exitCode).toBe(0);
    expect(composeCalls(box).at(-1)!.args.slice(0, 5)).toEqual(["compose", "-f", applied, "-p", name]);
  });

  it("up does not count a port held by this project's own running service as a conflict", async () => {
    const holder = Bun.listen({ hostname: "0.0.0.0", port: 0, socket: { data() {} } });
    try {
      writeProject(project, { name, ports: { redis: [holder.port] } });
      const psFile = join(box.dir, "ps.json");
      writeFileSync(psFile, JSON.stringify({ Service: "redis", Name: `${name}-redis-1`, State: "running" }));
      const result = await run(["up", "-d", "--no-generate"], { FAKE_PS_FILE: psFile });
      expect(result.exitCode).toBe(0);
      expect(composeCalls(box).at(-1)!.args.slice(7)).toEqual(["up", "--detach", "--remove-orphans"]);
    } finally {
      holder.stop(true);
    }
  });

  it("up --wait fails on an exited container and prints its last log lines", async () => {
    writeProject(project, { name, ports: { redis: [freePort("0.0.0.0")] } });
    const psFile = join(box.dir, "ps.json");
    writeFileSync(psFile, JSON.stringify({ Service: "redis", Name: `${name}-redis-1`, State: "exited", ExitCode: 3 }));
    const result = await run(["up", "--no-generate", "--wait", "--wait-timeout", "5"], { FAKE_PS_FILE: psFile, FAKE_LOGS: "redis: fatal: bad config line 7" });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("redis failed: container cslr-rec-");
    expect(result.stderr).toContain("redis: fatal: bad config line 7");
    expect(
      composeCalls(box)
        .find((c) => c.args.includes("up"))!
        .args.slice(7),
    ).toEqual(["up", "--detach", "--remove-orphans"]);
  });

  it("doctor marks each check, gives fixes, and exits non-zero on a failure", async () => {
    const holder = Bun.listen({ hostname: "0.0.0.0", port: 0, socket: { data() {} } });
    try {
      writeProject(project, { name, ports: { redis: [holder.port] } });
      rmSync(join(project, ".env"));
      writeFileSync(
        join(project, "_build/compose.yaml"),
        `${readFile(join(project, "_build/compose.yaml"))}    environment:\n      PASSWORD: \${POSTGRES_PASSWORD:?set it}\n`,
      );
      const result = await run(["doctor"], { FAKE_ENGINE: "down" });
      expect(result.exitCode).toBe(1);
      expect(result.stdout).toContain(`✓ container CLI: docker at ${join(box.bin, "docker")}`);
      expect(result.stdout).toContain("✗ engine reachable: docker info failed: Cannot connect to the Docker daemon");
      expect(result.stdout).toContain("    fix: sudo systemctl start docker");
      expect(result.stdout).toContain("✓ Compose v2: docker compose 2.26.1");
      expect(result.stdout).toContain("- NVIDIA runtime: no GPU listed by nvidia-smi");
      // No config.yaml: what `up` would need is the embedded example's secrets, none of which is set.
      expect(result.stdout).toContain(`✗ .env secrets: no ${join(project, ".env")}; missing: `);
      expect(result.stdout).toContain("POSTGRES_PASSWORD (needed by services.mlflow.postgres)");
      expect(result.stdout).toContain(`✗ host ports: ${holder.port} (redis) in use`);
      expect(result.stderr).toMatch(/doctor: \d+ checks failed/);
    } finally {
      holder.stop(true);
    }
  });

  it("doctor: no docker CLI at all", async () => {
    const empty = sandbox([]);
    try {
      const result = await runCli(["doctor"], { cli: argv, cwd: project, env: empty.env, replaceEnv: true });
      expect(result.exitCode).toBe(1);
      expect(result.stdout).toContain("✗ container CLI: neither docker nor podman is on PATH");
      expect(result.stdout).toContain("    fix: install Docker: https://docs.docker.com/engine/install/");
      expect(result.stdout).toContain("✗ Compose v2: no Docker Compose found");
    } finally {
      empty.cleanup();
    }
  });
});

/** status and up --wait read the model (ports, Ray nodes) through loadProject, against a real roster server. */
describe.each(rows)("cslr status and up --wait with a roster (%s)", (variant, argv) => {
  const it = test;
  let box: Sandbox;
  let project: string;
  let server: ReturnType<typeof Bun.serve>;
  const name = `cslr-roster-${variant}`;
  const head = { node: "gpu-box", address: "10.9.9.9:6379", term: 3, since: "2026-01-01T00:00:00Z", ready: true };

  beforeEach(() => {
    box = sandbox();
    project = join(box.dir, "project");
    mkdirSync(project);
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      // The election service speaks HTTPS with the project's certificate; cslr pins it.
      tls: testElectionCertificate(),
      fetch: (req) =>
        new URL(req.url).pathname === "/v1/cluster"
          ? Response.json({ head, term: 3, workers: [{ node: "ray-cpu", address: "172.28.0.3", term: 3, joinedAt: 1, ageMs: 5 }] })
          : new Response("", { status: 404 }),
    });
    writeProject(project, { name, ports: { health: [server.port!], "ray-cpu": [16379] } });
    writeFileSync(
      join(project, "config.yaml"),
      `project:\n  name: ${name}\nservices:\n  health:\n    port: ${server.port}\n  ray:\n    gpu:\n      enabled: false\n`,
    );
    writeFileSync(join(project, "nodes.yaml"), "head_whitelist: [ray-cpu, lab-cpu]\n");
    writeElectionCertificate(project);
    const psFile = join(box.dir, "ps.json");
    writeFileSync(
      psFile,
      [
        { Service: "health", Name: `${name}-health-1`, State: "running", Health: "healthy", Status: "Up (healthy)" },
        { Service: "ray-cpu", Name: `${name}-ray-cpu-1`, State: "running", Health: "", Status: "Up" },
      ]
        .map((r) => JSON.stringify(r))
        .join("\n"),
    );
    box.env.FAKE_PS_FILE = psFile;
  });
  afterEach(() => {
    server.stop(true);
    box.cleanup();
  });

  it("status --json has services, the head from the roster and the addresses on --host", async () => {
    const result = await runCli(["status", "--json", "--host", "10.1.2.3"], { cli: argv, cwd: project, env: box.env, replaceEnv: true });
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report)[0]).toBe("schemaVersion");
    expect(report.schemaVersion).toBe(1);
    expect(report.head).toEqual(head);
    // A container has the same fields as in ps --json.
    expect(Object.keys(report.services[0])).toEqual(["service", "container", "state", "health", "exitCode", "status", "ports"]);
    expect(report.services.map((s: { service: string }) => s.service)).toEqual(["health", "ray-cpu"]);
    expect(report.endpoints.mlflow).toBe("http://10.1.2.3:5000");
    expect(report.endpoints.rayClient).toStartWith("ray://10.9.9.9:");
  });

  it("up --wait reports the phases and ends ready", async () => {
    const result = await runCli(["up", "--no-generate", "--wait", "--wait-timeout", "20"], { cli: argv, cwd: project, env: box.env, replaceEnv: true });
    expect(result.stderr).toContain("ready: head gpu-box, this host's Ray nodes on the roster 1/1");
    expect(result.stderr).toContain("MLflow UI");
    expect(result.exitCode).toBe(0);
  });

  it("up --wait --quiet: no phases, no addresses, compose told --progress quiet", async () => {
    const result = await runCli(["up", "--no-generate", "--wait", "--wait-timeout", "20", "--quiet"], {
      cli: argv,
      cwd: project,
      env: box.env,
      replaceEnv: true,
    });
    expect(result.exitCode).toBe(0);
    // Only the fake docker's own lines remain on stderr.
    expect(result.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("[docker recorder]"))).toEqual([]);
    const up = box.records().find((r) => r.args.includes("up"))!;
    expect(up.args.slice(-5)).toEqual(["--progress", "quiet", "up", "--detach", "--remove-orphans"]);
  });
});

function readFile(path: string): string {
  return (require("node:fs") as typeof import("node:fs")).readFileSync(path, "utf8");
}

function symlinkFake(box: Sandbox, program: string) {
  const { symlinkSync, readlinkSync } = require("node:fs") as typeof import("node:fs");
  symlinkSync(readlinkSync(join(box.bin, "docker")), join(box.bin, program));
}

function emptyPs(box: Sandbox): string {
  const file = join(box.dir, "ps-empty.json");
  writeFileSync(file, "");
  return file;
}
