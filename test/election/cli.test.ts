/** `cslr health serve|ping` run from source, as the compose file runs them. */
import { afterAll, describe, expect, test } from "bun:test";
import { nodeKey } from "../../src/election/auth.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compiledCslr } from "../helpers/binary.ts";
import { runCli } from "../helpers/cli.ts";
import { freePort } from "../helpers/ports.ts";
import { until } from "../helpers/until.ts";

const dir = mkdtempSync(join(tmpdir(), "cslr-health-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cslr = (args: string[]) => runCli(args, { cwd: dir });

describe("cslr health serve: bad input is one line and exit 2", () => {
  const badNodes = join(dir, "bad-nodes.yaml");
  writeFileSync(badNodes, "head_whitelist: []\n");
  const notYaml = join(dir, "not-yaml.yaml");
  writeFileSync(notYaml, "head_whitelist: [a\n");
  const rows: { args: string[]; error: RegExp }[] = [
    { args: ["--nodes", badNodes], error: /bad-nodes\.yaml:1:17 {2}head_whitelist {2}empty whitelist; expected/ },
    { args: ["--nodes", notYaml], error: /not-yaml\.yaml:\d+:\d+ {2}\(document\) {2}YAML syntax error: .*; expected valid YAML/ },
    { args: ["--nodes", join(dir, "missing.yaml")], error: /missing\.yaml: cannot read nodes file \(ENOENT\)/ },
    { args: [], error: /no head whitelist; expected --nodes FILE/ },
    { args: ["--whitelist", "a,b c"], error: /--whitelist: "b c" is not a hostname/ },
    { args: ["--whitelist", "a", "--lease-ttl", "soon"], error: /--lease-ttl "soon": expected a duration/ },
    { args: ["--whitelist", "a", "--port", "99999"], error: /--port "99999": expected an integer from 1 to 65535/ },
  ];
  for (const row of rows) {
    test(row.args.join(" ") || "(no whitelist)", async () => {
      const { exitCode, stderr } = await cslr(["health", "serve", "--port", String(freePort()), ...row.args]);
      expect(exitCode).toBe(2);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toMatch(row.error);
    });
  }
});

describe("cslr health serve + ping", () => {
  test("serves a nodes.yaml whitelist; ping exits 0 while it answers and 1 after", async () => {
    const nodes = join(dir, "nodes.yaml");
    writeFileSync(nodes, "head_whitelist: [ray-cpu, ray-gpu]\n");
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = Bun.spawn([await compiledCslr(), "health", "serve", "--host", "127.0.0.1", "--port", String(port), "--nodes", nodes, "--lease-ttl", "1s"], {
      env: { ...process.env, CSLR_CLUSTER_TOKEN: "t0k" },
      stderr: "pipe",
    });
    try {
      await until("cslr health ping to answer 0", async () => (await cslr(["health", "ping", "--url", url, "--timeout", "1"])).exitCode === 0, 20_000);
      const claim = await fetch(`${url}/v1/claim`, {
        method: "POST",
        headers: { authorization: `Bearer ${nodeKey("t0k", "ray-gpu")}` },
        body: JSON.stringify({ node: "ray-gpu", address: "ray-gpu:6380" }),
      });
      expect(await claim.json()).toMatchObject({ role: "head", term: 1, leaseTtlMs: 1000 });
    } finally {
      server.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    }
    const after = await cslr(["health", "ping", "--url", url, "--timeout", "500ms"]);
    expect(after.exitCode).toBe(1);
    expect(after.stderr).toContain("did not answer");
  });
});
