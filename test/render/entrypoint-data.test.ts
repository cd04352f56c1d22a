import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Model } from "../../src/config/model.ts";
import { rayEntrypointData, type RayEntrypointData } from "../../src/render/entrypoint-data.ts";
import { renderEmbedded } from "../../src/render/engine.ts";

const election: Model["election"] = {
  whitelist: ["ray-cpu", "ray-gpu"],
  headCandidates: [
    { name: "ray-cpu", address: "ray-cpu", port: 6379 },
    { name: "ray-gpu", address: "ray-gpu", port: 6380 },
  ],
  headAddress: null,
  url: "http://health:8080",
  timeout: 10,
  leaseTtl: 10,
};

describe("rayEntrypointData", () => {
  test("maps the model's election part to the template data", () => {
    // Only `election` is read; the rest of the model is irrelevant to this pure mapping.
    const model = { election } as unknown as Model;
    expect(rayEntrypointData(model)).toEqual({
      whitelist: ["ray-cpu", "ray-gpu"],
      headCandidates: election.headCandidates,
      headAddress: null,
      healthUrl: "http://health:8080",
      healthTimeout: 10,
      leaseTtl: 10,
    });
  });
});

describe("templates/ray-ep.sh.eta", () => {
  const base: RayEntrypointData = { ...rayEntrypointData({ election } as unknown as Model) };

  test("renders valid bash with the defaults baked in", () => {
    const script = renderEmbedded("ray-ep.sh", base);
    expect(script).toContain("DEFAULT_WHITELIST='ray-cpu,ray-gpu'");
    expect(script).toContain("DEFAULT_HEAD_CANDIDATES=('ray-cpu=ray-cpu:6379' 'ray-gpu=ray-gpu:6380' )");
    expect(script).toContain("DEFAULT_HEALTH_URL='http://health:8080'");
    expect(script).toContain("DEFAULT_LEASE_TTL=10");
    const check = Bun.spawnSync(["bash", "-n"], { stdin: new TextEncoder().encode(script) });
    expect(check.exitCode).toBe(0);
  });

  test("values cannot change the script's structure (shell-quoted)", () => {
    const dir = mkdtempSync(join(tmpdir(), "cslr-ep-"));
    try {
      const hostile = "http://h:1/$(touch " + join(dir, "pwned") + ")'\"`x`";
      const script = renderEmbedded("ray-ep.sh", { ...base, healthUrl: hostile, headAddress: "a'; touch x; '" });
      const file = join(dir, "ep.sh");
      writeFileSync(file, `${script.replace(/\nmain\n?$/, "\n")}\nprintf '%s\\n' "$DEFAULT_HEALTH_URL" "$DEFAULT_HEAD_ADDRESS"\n`);
      // The CSLR_HEALTH_URL check rejects the value before anything runs; read the defaults only.
      const run = Bun.spawnSync(["bash", "-c", `sed -n '/^DEFAULT_WHITELIST=/,/^DEFAULT_LEASE_TTL=/p' ${file} > ${file}.vars; . ${file}.vars; printf '%s\\n' "$DEFAULT_HEALTH_URL" "$DEFAULT_HEAD_ADDRESS"`]);
      expect(run.stdout.toString()).toBe(`${hostile}\na'; touch x; '\n`);
      expect(Bun.file(join(dir, "pwned")).size).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
