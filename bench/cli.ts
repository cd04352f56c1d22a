/** Wall time of the compiled binary: start-up (`--version`) and a full `generate`. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Timing {
  what: string;
  runs: number;
  medianMs: number;
  p90Ms: number;
  targetMs: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function timeCommand(argv: string[], cwd: string, runs: number): number[] {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = Bun.nanoseconds();
    const result = Bun.spawnSync(argv, { cwd, stdout: "ignore", stderr: "pipe" });
    samples.push((Bun.nanoseconds() - start) / 1e6);
    if (result.exitCode !== 0) throw new Error(`${argv.join(" ")} failed: ${result.stderr.toString()}`);
  }
  return samples.sort((a, b) => a - b);
}

/**
 * The floor: a compiled Bun hello-world on this machine. cslr's times are also given as a
 * multiple of it, which says more across machines than milliseconds do.
 */
function helloWorld(dir: string): string {
  writeFileSync(join(dir, "hello.ts"), 'console.log("hello");\n');
  const out = join(dir, "hello");
  const built = Bun.spawnSync(["bun", "build", "--compile", join(dir, "hello.ts"), "--outfile", out], { stdout: "ignore", stderr: "pipe" });
  if (built.exitCode !== 0) throw new Error(`cannot compile hello world: ${built.stderr.toString()}`);
  return out;
}

export function benchCli(binary: string, runs = 30): Timing[] {
  const dir = mkdtempSync(join(tmpdir(), "cslr-bench-"));
  try {
    timeCommand([binary, "init", "--quiet"], dir, 1);
    const rows: [string, string[], number][] = [
      ["bun hello-world (compiled)", [helloWorld(dir)], 20],
      ["cslr --version", [binary, "--version"], 20],
      ["cslr generate", [binary, "generate", "--quiet"], 50],
    ];
    return rows.map(([what, argv, targetMs]) => {
      timeCommand(argv, dir, 3); // warm the page cache
      const samples = timeCommand(argv, dir, runs);
      return { what, runs, medianMs: percentile(samples, 0.5), p90Ms: percentile(samples, 0.9), targetMs };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
