/**
 * `cslr doctor` tells the truth: missing files are called missing (the embedded examples would
 * be used), the secrets `up` would need are checked even before anything is generated, and
 * every image is found locally or in its registry, within a bounded time.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveProject } from "../../src/config/load.ts";
import { engineImageProbe, imagesCheck, imagesOf, registryReason } from "../../src/doctor/images.ts";
import { runDoctor } from "../../src/doctor/run.ts";
import { dotenvText, repoRoot, runCli, writeElectionCertificate } from "../helpers/cli.ts";
import { modelFixture } from "../helpers/model.ts";
import { sandbox, type Sandbox } from "../fixtures/recorder.ts";

const fakeDocker = join(repoRoot, "test/fixtures/bin/docker");

describe("cslr doctor in an empty folder", () => {
  let box: Sandbox;
  let dir: string;
  beforeEach(() => {
    box = sandbox();
    dir = join(box.dir, "empty");
    mkdirSync(dir);
  });
  afterEach(() => box.cleanup());

  test("says the files are missing and the embedded examples would be used; the secrets fail", async () => {
    const result = await runCli(["doctor"], { cwd: dir, env: box.env, replaceEnv: true });
    expect(result.stdout).toContain("! config: config.yaml and nodes.yaml are missing: `cslr generate` and `cslr up` would use the embedded examples");
    expect(result.stdout).not.toMatch(/config\.yaml.* valid/);
    expect(result.stdout).toContain(`✗ .env secrets: no ${join(dir, ".env")}; missing: CSLR_CLUSTER_TOKEN (needed by services.health)`);
    expect(result.stdout).not.toContain("All checks passed");
    expect(result.exitCode).toBe(1);
  });

  test("after init: the files are valid, the secrets set, only what is really there is called so", async () => {
    expect((await runCli(["init"], { cwd: dir, env: box.env, replaceEnv: true })).exitCode).toBe(0);
    const result = await runCli(["doctor"], { cwd: dir, env: box.env, replaceEnv: true });
    expect(result.stdout).toContain("✓ config: config.yaml and nodes.yaml are valid");
    expect(result.stdout).toContain(`✓ .env secrets: every secret the stack needs is set in ${join(dir, ".env")}`);
    expect(result.stdout).toContain("✓ images: all 6 on this machine");
  });

  test("only nodes.yaml missing: the config is valid and the example's whitelist would be used", async () => {
    writeFileSync(join(dir, "config.yaml"), "project:\n  name: lab\n");
    writeFileSync(join(dir, ".env"), dotenvText());
    writeElectionCertificate(dir);
    const result = await runCli(["doctor"], { cwd: dir, env: box.env, replaceEnv: true });
    expect(result.stdout).toContain("! config: config.yaml is valid; nodes.yaml is missing: `cslr generate` and `cslr up` would use the embedded example");
  });

  test("an image neither local nor in its registry fails, naming the key; the registry is asked within a bound", async () => {
    writeFileSync(join(dir, "config.yaml"), "services:\n  redis:\n    image: lab/redis:9\n");
    writeFileSync(join(dir, ".env"), dotenvText());
    writeElectionCertificate(dir);
    const images = "debian:12.11-slim rayproject/ray:2.60.0 ghcr.io/mlflow/mlflow:v3.17.2-full postgres:15 ghcr.io/marimo-team/marimo:0.25.2-sql";
    const result = await runCli(["doctor"], { cwd: dir, env: { ...box.env, FAKE_IMAGES: images, FAKE_MANIFEST: "manifest unknown" }, replaceEnv: true });
    expect(result.stdout).toContain("✗ images: not on this machine and not pullable (the registry does not have it): lab/redis:9 (services.redis.image)");
    expect(result.stdout).toContain("or set services.redis.image to an image this machine has");
    expect(result.exitCode).toBe(1);
  });
});

describe("images", () => {
  test("runDoctor asks an injected probe, never a registry", async () => {
    const box = sandbox();
    try {
      const asked: string[] = [];
      const checks = await runDoctor(resolveProject({}, box.dir), {
        images: async (image) => {
          asked.push(image);
          return { state: "missing", why: "injected" };
        },
      });
      const images = checks.find((c) => c.id === "images")!;
      // Without a reachable engine here the check is skipped before any probe.
      if (images.status === "skip") return void expect(asked).toEqual([]);
      expect(asked).toContain("rayproject/ray:2.60.0");
      expect(images).toMatchObject({ status: "fail", detail: expect.stringContaining("not pullable (injected)") });
    } finally {
      box.cleanup();
    }
  });

  test("imagesOf: the enabled services' images, each once with every key that uses it", () => {
    const model = modelFixture({
      services: { health: { image: "same:1" }, redis: { image: "same:1" }, mlflow: { enabled: false }, marimo: { enabled: false } },
    });
    expect(imagesOf(model)).toEqual([
      { image: "same:1", keys: ["services.health.image", "services.redis.image"] },
      { image: "rayproject/ray:2.60.0", keys: ["services.ray.cpu.image"] },
    ]);
  });

  test("imagesCheck: local and pullable pass; pullable ones are named", () => {
    const images = [
      { image: "a:1", keys: ["k1"] },
      { image: "b:1", keys: ["k2"] },
    ];
    expect(imagesCheck(images, [{ state: "local" }, { state: "pullable" }])).toMatchObject({
      status: "ok",
      detail: "1 on this machine; b:1 pulled by the first `cslr up`",
    });
    expect(imagesCheck(images, [{ state: "local" }, { state: "local" }])).toMatchObject({ status: "ok", detail: "all 2 on this machine" });
  });

  test("registryReason keeps the network error, not Docker's wrapping", () => {
    expect(
      registryReason(
        'failed to configure transport: error pinging v2 registry: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.0.0.53:53: no such host',
      ),
    ).toBe("lookup registry-1.docker.io on 10.0.0.53:53: no such host");
    expect(registryReason("no such manifest: docker.io/library/x:1")).toBe("the registry does not have it");
  });

  describe("engineImageProbe against the fake docker", () => {
    /** The fake docker with its behaviour fixed by a wrapper (the probe passes no environment of its own). */
    function engine(vars: Record<string, string>): string {
      const wrapper = join(box.dir, `docker-${Object.values(vars).join("-").replace(/\W/g, "") || "plain"}`);
      const exports = Object.entries(vars)
        .map(([k, v]) => `export ${k}=${JSON.stringify(v)}`)
        .join("\n");
      writeFileSync(wrapper, `#!/bin/bash\nunset FAKE_IMAGES FAKE_MANIFEST DOCKER_RECORD_FILE\n${exports}\nexec ${fakeDocker} "$@"\n`, { mode: 0o755 });
      return wrapper;
    }
    let box: Sandbox;
    beforeEach(() => (box = sandbox()));
    afterEach(() => box.cleanup());

    test("local: found by image inspect", async () => {
      expect(await engineImageProbe(engine({}))("x:1")).toEqual({ state: "local" });
    });

    test("an image named like an option reaches docker after `--`, as a name", async () => {
      const record = join(box.dir, "argv.txt");
      const recorder = join(box.dir, "docker-recorder");
      writeFileSync(recorder, `#!/bin/bash\nprintf '%s\\n' "$*" >> ${JSON.stringify(record)}\nexit 1\n`, { mode: 0o755 });
      await engineImageProbe(recorder)("--help");
      expect(readFileSync(record, "utf8").trimEnd().split("\n")).toEqual(["image inspect --format {{.Id}} -- --help", "manifest inspect -- --help"]);
    });

    test("not local, registry has it: pullable", async () => {
      expect(await engineImageProbe(engine({ FAKE_IMAGES: "" }))("x:1")).toEqual({ state: "pullable" });
    });

    test("a registry that does not answer is given up after the bound", async () => {
      const started = performance.now();
      expect(await engineImageProbe(engine({ FAKE_IMAGES: "", FAKE_MANIFEST: "hang" }), 300)("x:1")).toEqual({
        state: "missing",
        why: "its registry did not answer within 0.3 s",
      });
      expect(performance.now() - started).toBeLessThan(3000);
    });
  });
});
