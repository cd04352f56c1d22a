/**
 * Property test for the shell side: hostile strings in every value baked into ray-ep.sh come
 * back from bash byte for byte, and nothing in them is executed.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RayEntrypointData } from "../../src/render/entrypoint-data.ts";
import { renderEmbedded } from "../../src/render/engine.ts";

const nasty = ["'", '"', "$(touch PWNED)", "`touch PWNED`", "${HOME}", "$HOME", "\\", ";", "&&", "|", "\n", " ", "*", "?", "#", "!", "~", "=", ")", "(", "é"];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function hostile(random: () => number): string {
  let out = "";
  for (let i = 0, n = 1 + Math.floor(random() * 5); i < n; i++) {
    out += random() < 0.6 ? nasty[Math.floor(random() * nasty.length)] : random().toString(36).slice(2, 5);
  }
  return out;
}

/** Runs the script's defaults section in bash and prints each value NUL-terminated. */
function bakedValues(script: string, dir: string): string[] {
  const defaults = script.slice(0, script.indexOf("# ---------------------------------------------------------------- settings"));
  const probe = `${defaults}\nprintf '%s\\0' "$DEFAULT_WHITELIST" "$DEFAULT_HEAD_ADDRESS" "$DEFAULT_HEALTH_URL" "\${DEFAULT_HEAD_CANDIDATES[@]}"\n`;
  const file = join(dir, "probe.sh");
  writeFileSync(file, probe);
  const result = Bun.spawnSync(["bash", file], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  expect(result.stderr.toString()).toBe("");
  expect(result.exitCode).toBe(0);
  return result.stdout.toString().split("\0").slice(0, -1);
}

describe("ray-ep.sh defaults survive hostile values", () => {
  test.each(Array.from({ length: 60 }, (_, i) => i + 1))("seed %d", (seed) => {
    const random = rng(seed);
    const data: RayEntrypointData = {
      whitelist: [hostile(random), hostile(random)],
      headCandidates: [{ name: hostile(random), address: hostile(random), port: 6379 }],
      headAddress: hostile(random),
      healthUrl: hostile(random),
      healthTimeout: 10,
      leaseTtl: 10,
    };
    const dir = mkdtempSync(join(tmpdir(), "cslr-ep-"));
    try {
      const script = renderEmbedded("ray-ep.sh", data);
      expect(Bun.spawnSync(["bash", "-n", "-c", script]).exitCode).toBe(0);
      const [whitelist, headAddress, healthUrl, ...candidates] = bakedValues(script, dir);
      expect(whitelist).toBe(data.whitelist.join(","));
      expect(headAddress).toBe(data.headAddress!);
      expect(healthUrl).toBe(data.healthUrl);
      const c = data.headCandidates[0]!;
      expect(candidates).toEqual([`${c.name}=${c.address}:${c.port}`]);
      expect(Bun.file(join(dir, "PWNED")).size).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
