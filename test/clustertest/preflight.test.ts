/** `cslr test` says at once when the stack is not running (it used to wait ~62 s and blame the firewall). */
import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { preflightProblem } from "../../src/clustertest/preflight.ts";
import { dotenvText, fakeHealthBinary, repoRoot, runCli, writeElectionCertificate } from "../helpers/cli.ts";
import { modelFixture } from "../helpers/model.ts";
import { sandbox } from "../fixtures/recorder.ts";

describe("preflightProblem", () => {
  const model = modelFixture({}, { head_whitelist: ["ray-cpu"] });
  const start = "start it with `cslr up -d --wait`, then run `cslr test` again";

  test.each([
    [[], `the stack cslr is not running (no running container): ${start}`],
    [["ray-cpu", "ray-redis"], `the stack cslr is not running its election service (health): ${start}`],
    [["health", "ray-redis"], `the stack cslr runs no Ray node that can be head (ray-cpu): ${start}`],
    [["health", "ray-cpu"], undefined],
  ] as [string[], string | undefined][])("running %j → %p", (running, expected) => {
    expect(preflightProblem(model, new Set(running))).toBe(expected);
  });

  test("published to loopback only: the test cannot pass, and says why", () => {
    const local = modelFixture({ network: { bind_address: "127.0.0.1" } }, { head_whitelist: ["ray-cpu"] });
    expect(preflightProblem(local, new Set(["health", "ray-cpu"]))).toStartWith(
      "network.bind_address is 127.0.0.1: the cluster is published to this machine only",
    );
  });
});

test("cslr test with the stack down fails in seconds, saying so, and starts no test container", async () => {
  const box = sandbox();
  try {
    const project = join(box.dir, "project");
    mkdirSync(project);
    const config = readFileSync(join(repoRoot, "config.example.yaml"), "utf8").replace(
      "    lease_ttl: 30 ",
      `    binary: ${fakeHealthBinary(project)}\n    lease_ttl: 30 `,
    );
    writeFileSync(join(project, "config.yaml"), config);
    writeFileSync(join(project, "nodes.yaml"), readFileSync(join(repoRoot, "nodes.yaml"), "utf8"));
    writeFileSync(join(project, ".env"), dotenvText(), { mode: 0o600 });
    writeElectionCertificate(project);
    const started = performance.now();
    const result = await runCli(["test"], { cwd: project, env: box.env, replaceEnv: true, timeoutMs: 20_000 });
    const seconds = (performance.now() - started) / 1000;
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim().split("\n").at(-1)).toBe(
      "the stack cslr is not running (no running container): start it with `cslr up -d --wait`, then run `cslr test` again",
    );
    expect(seconds).toBeLessThan(10);
    expect(box.records().some((r) => r.args.includes("up"))).toBe(false);
  } finally {
    box.cleanup();
  }
});
