/**
 * `bun run test`: the whole suite, as fast as it safely goes on a small machine.
 *   1. everything but test/e2e, files spread over four worker processes (`--parallel=4`), the
 *      slowest files first (test/timings.json, per-file times of an earlier run): most of these
 *      tests wait on real processes, sockets and timers rather than compute, so four workers keep
 *      two cores busy where two workers left them idle about half the time (measured on the
 *      2-core development machine: 58–65 s with two workers, 37.8–45.0 s with four);
 *   2. then test/e2e alone, one file at a time: those drive one shared Docker engine, and their
 *      failover bounds should not compete with other suites for two cores.
 * Extra arguments go to both runs (`bun run test --bail`). The exit code is the first failing
 * run's. Plain `bun test` runs the same files serially. After adding or much changing test files:
 * `bun run test:timings` (the fast suite with `--fast --update-timings`) rewrites test/timings.json.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
// --fast: the first run only (what a developer runs between changes); not passed to bun test.
const fastOnly = process.argv.includes("--fast");
const extra = process.argv.slice(2).filter((arg) => arg !== "--fast");
const fast = readdirSync(join(root, "test"))
  .filter((name) => name !== "e2e")
  .map((name) => `./test/${name}`);

function run(args: string[]): number {
  const result = Bun.spawnSync(["bun", "test", ...args, ...extra], { cwd: root, stdio: ["inherit", "inherit", "inherit"] });
  return result.exitCode ?? 1;
}

const timings = join(root, "test/timings.json");
const started = performance.now();
// --timeout: the workers of --parallel do not read bunfig.toml's [test] timeout.
const fastCode = run(["--parallel=4", "--timeout=30000", `--timings=${timings}`, ...fast]);
const fastSeconds = ((performance.now() - started) / 1000).toFixed(0);
const e2eCode = fastOnly ? 0 : run(["./test/e2e"]);
console.error(`\nbun run test: the fast suite took ${fastSeconds} s, the whole run ${((performance.now() - started) / 1000).toFixed(0)} s`);
process.exit(fastCode !== 0 ? fastCode : e2eCode);
