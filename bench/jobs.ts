/**
 * `cslr run` figures (part of `bun run bench`):
 * 1. packing rate of a working directory: a 10,000-file tree (1 KiB each, 100 folders);
 * 2. time from `cslr run` to the job's first log line and to its end, against the compiled
 *    stand-in head's Jobs API on loopback (upload, submit, PENDING → RUNNING, log stream).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { clientFor, whoAmI } from "../src/jobs/cli-io.ts";
import { packWorkingDir } from "../src/jobs/pack.ts";
import { runJob } from "../src/jobs/run.ts";
import { freePort } from "../test/helpers/ports.ts";
import type { BenchRow } from "./election.ts";

const repo = resolve(import.meta.dir, "..");

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export function benchPacking(files = 10_000): BenchRow {
  const root = mkdtempSync(join(tmpdir(), "cslr-bench-pack-"));
  try {
    const content = "x".repeat(1023) + "\n";
    for (let d = 0; d < 100; d++) {
      mkdirSync(join(root, `dir${d}`));
      for (let f = 0; f < files / 100; f++) writeFileSync(join(root, `dir${d}`, `file${f}.py`), `${d} ${f} ${content}`);
    }
    const times: number[] = [];
    let zipBytes = 0;
    for (let run = 0; run < 5; run++) {
      const start = performance.now();
      zipBytes = packWorkingDir(root).bytes.length;
      times.push(performance.now() - start);
    }
    const ms = median(times);
    return {
      benchmark: `packing ${files} files of 1 KiB (median of 5)`,
      "pack ms": Math.round(ms),
      "files/s": Math.round(files / (ms / 1000)),
      "input MiB/s": Math.round((files * 1024) / 2 ** 20 / (ms / 1000)),
      "zip KiB": Math.round(zipBytes / 1024),
      "target ms": 2000,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function waitUntil(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await fetch(url).then(
        (r) => r.status < 500,
        () => false,
      )
    )
      return;
    await Bun.sleep(20);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

export async function benchRunFirstLog(runs = 5): Promise<BenchRow> {
  const dir = mkdtempSync(join(tmpdir(), "cslr-bench-run-"));
  const ray = join(dir, "ray");
  const build = Bun.spawnSync(["bun", "build", "--compile", join(repo, "test/stand-in/ray.ts"), "--outfile", ray], { stdout: "ignore", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`cannot compile the stand-in: ${build.stderr.toString()}`);
  const [gcs, dashboard, client] = [freePort(), freePort(), freePort()];
  const head = Bun.spawn(
    [
      ray,
      "start",
      "--head",
      `--port=${gcs}`,
      `--dashboard-port=${dashboard}`,
      "--dashboard-host=127.0.0.1",
      `--ray-client-server-port=${client}`,
      "--node-ip-address=127.0.0.1",
      "--block",
    ],
    { env: { ...process.env, CSLR_NODE_NAME: "bench-head", RAY_STANDIN_DIR: join(dir, "state") }, stdout: "ignore", stderr: "ignore" },
  );
  try {
    const url = `http://127.0.0.1:${dashboard}`;
    await waitUntil(`${url}/api/version`, 10_000);
    const project = join(dir, "project");
    mkdirSync(project);
    writeFileSync(join(project, "train.py"), "print('first line', flush=True)\n");
    const firstLog: number[] = [];
    const end: number[] = [];
    for (let run = 0; run < runs; run++) {
      let first = 0;
      const start = performance.now();
      const target = { url, projectName: "bench" };
      const code = await runJob(
        { workingDir: project, command: ["python3", "train.py"], env: [], experiment: "bench", namePrefix: "bench", detach: false },
        target,
        clientFor(target, "bench"),
        {
          writeLog: () => {
            if (!first) first = performance.now();
          },
          say: () => {},
          printId: () => {},
          logOnScreen: false,
          interrupts: { subscribe: () => () => {} },
          identity: whoAmI(),
          cslrVersion: "bench",
        },
      );
      if (code !== 0) throw new Error(`the bench job exited ${code}`);
      firstLog.push(first - start);
      end.push(performance.now() - start);
    }
    return {
      benchmark: `cslr run against the stand-in head's Jobs API (median of ${runs})`,
      "→ first log line ms": Math.round(median(firstLog)),
      "→ job done, exit code back ms": Math.round(median(end)),
    };
  } finally {
    head.kill("SIGTERM");
    await head.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchJobs(): Promise<BenchRow[]> {
  return [benchPacking(), await benchRunFirstLog()];
}
