/**
 * `bun run bench`: the figures the README's performance section quotes. Builds dist/cslr
 * first, so it always measures the binary users get.
 */
import { join } from "node:path";
import { benchCli } from "./cli.ts";

const root = join(import.meta.dir, "..");
const build = Bun.spawnSync(["bun", "run", "build"], { cwd: root, stdout: "ignore", stderr: "inherit" });
if (build.exitCode !== 0) process.exit(build.exitCode ?? 1);

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
console.log("\n## CLI (dist/cslr, median of 30 runs)\n");
console.log("| command | median | p90 | target | |");
console.log("|---|---|---|---|---|");
for (const t of benchCli(join(root, "dist/cslr"))) {
  console.log(`| \`${t.what}\` | ${fmt(t.medianMs)} | ${fmt(t.p90Ms)} | < ${t.targetMs} ms | ${t.medianMs < t.targetMs ? "✓" : "✗"} |`);
}

const { benchElection } = await import("./election.ts");
console.log("\n## Election service and formation\n");
await benchElection();
