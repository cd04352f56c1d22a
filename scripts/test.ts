/**
 * `bun run test`: the whole suite, as fast as it safely goes on a small machine.
 *   1. everything but test/e2e, files spread over two worker processes (`--parallel=2`): most
 *      of these tests wait on real processes and sockets rather than compute;
 *   2. then test/e2e alone, one file at a time: those drive one shared Docker engine, and their
 *      failover bounds should not compete with other suites for two cores.
 * Extra arguments go to both runs (`bun run test --bail`). The exit code is the first failing
 * run's. Plain `bun test` runs the same files serially.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const extra = process.argv.slice(2);
const fast = readdirSync(join(root, "test"))
  .filter((name) => name !== "e2e")
  .map((name) => `./test/${name}`);

function run(args: string[]): number {
  const result = Bun.spawnSync(["bun", "test", ...args, ...extra], { cwd: root, stdio: ["inherit", "inherit", "inherit"] });
  return result.exitCode ?? 1;
}

const started = performance.now();
// --timeout: the workers of --parallel do not read bunfig.toml's [test] timeout.
const fastCode = run(["--parallel=2", "--timeout=30000", ...fast]);
const fastSeconds = ((performance.now() - started) / 1000).toFixed(0);
const e2eCode = run(["./test/e2e"]);
console.error(`\nbun run test: the fast suite took ${fastSeconds} s, the whole run ${((performance.now() - started) / 1000).toFixed(0)} s`);
process.exit(fastCode !== 0 ? fastCode : e2eCode);
