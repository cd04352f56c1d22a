/**
 * `bun run bench`: the figures docs/development.md's performance table quotes. Builds dist/cslr
 * first, so it always measures the binary users get.
 */
import { join } from "node:path";
import { benchCli } from "./cli.ts";

const root = join(import.meta.dir, "..");
const build = Bun.spawnSync(["bun", "run", "build"], { cwd: root, stdout: "ignore", stderr: "inherit" });
if (build.exitCode !== 0) process.exit(build.exitCode ?? 1);

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
console.log("\n## CLI (dist/cslr, median of 30 runs)\n");
console.log("| command | median | p90 | × hello-world | target | |");
console.log("|---|---|---|---|---|---|");
const cliRows = benchCli(join(root, "dist/cslr"));
const floor = cliRows[0]!.medianMs;
for (const t of cliRows) {
  console.log(
    `| \`${t.what}\` | ${fmt(t.medianMs)} | ${fmt(t.p90Ms)} | ${(t.medianMs / floor).toFixed(1)}× | < ${t.targetMs} ms | ${t.medianMs < t.targetMs ? "✓" : "✗"} |`,
  );
}

const print = (row: Record<string, string | number>) => {
  console.log(`\n${row.benchmark}`);
  console.table(Object.fromEntries(Object.entries(row).filter(([k]) => k !== "benchmark")));
};

const { benchElection } = await import("./election.ts");
console.log("\n## Election service and formation\n");
await benchElection();

const { benchJobs } = await import("./jobs.ts");
console.log("\n## cslr run\n");
for (const row of await benchJobs()) print(row);

const { benchPage } = await import("./page.ts");
console.log("\n## Lab page\n");
for (const row of await benchPage()) print(row);

// Three simulated workstations need root, iproute2 and a Docker engine with the test images.
const { benchHosts, hostsBenchProblem } = await import("./hosts.ts");
console.log("\n## Three workstations (network namespaces, a dockerd each)\n");
const problem = hostsBenchProblem();
if (problem) console.log(`skipped: ${problem}`);
else for (const row of await benchHosts()) print(row);
