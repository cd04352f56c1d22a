/**
 * `cslr jobs`, `cslr jobs logs ID [-f]`, `cslr jobs stop ID`: the cluster's jobs as a table or
 * JSON, one job's log, and stopping one.
 */
import { formatDuration, oneLine } from "./answers.ts";
import type { JobsClient } from "./client.ts";
import { followToEnd, type FollowToEndIo, type Interrupts } from "./follow-to-end.ts";
import type { JobDetails } from "./spec.ts";
import { formatJson, jsonDocument } from "../json.ts";

export interface JobRow {
  id: string;
  status: string;
  entrypoint: string;
  start: string;
  duration: string;
}

/** `2026-01-05 14:03:12` in this machine's time zone. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Rows for the table, newest first; a running job's duration runs to `now`. */
export function jobRows(jobs: readonly JobDetails[], now: number, formatTime: (ms: number) => string = localTime): JobRow[] {
  return [...jobs]
    .sort((a, b) => (b.start_time ?? 0) - (a.start_time ?? 0))
    .map((job) => {
      const start = job.start_time ?? undefined;
      const end = job.end_time ?? (job.status === "RUNNING" || job.status === "PENDING" ? now : undefined);
      return {
        id: oneLine(job.submission_id ?? job.job_id ?? "-", 80),
        status: job.status,
        entrypoint: oneLine(job.entrypoint, 60) || "-",
        start: start === undefined ? "-" : formatTime(start),
        duration: start === undefined || end === undefined ? "-" : formatDuration(end - start),
      };
    });
}

export function renderJobs(rows: readonly JobRow[]): string {
  if (rows.length === 0) return "no jobs on the cluster yet; submit one with cslr run -- COMMAND\n";
  const header: JobRow = { id: "ID", status: "STATUS", entrypoint: "ENTRYPOINT", start: "START", duration: "DURATION" };
  const keys = ["id", "status", "start", "duration", "entrypoint"] as const;
  const all = [header, ...rows];
  const width = (key: (typeof keys)[number]) => Math.max(...all.map((r) => r[key].length));
  const widths = keys.map(width);
  return all.map((row) => keys.map((k, i) => (i === keys.length - 1 ? row[k] : row[k].padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}

/**
 * A driver Ray's client server started for a `ray://` session (`cslr test`, a notebook's
 * ray.init("ray://…")), not a job anyone submitted. Seen on Ray 2.60: type DRIVER, entrypoint
 * `…python3 -m ray.util.client.server --address=… --mode=specific-server`.
 */
export function isClientServerDriver(job: JobDetails): boolean {
  return job.type === "DRIVER" && /(^|\s)-m ray\.util\.client\.server(\s|$)/.test(job.entrypoint) && /--mode=specific-server\b/.test(job.entrypoint);
}

export async function listJobs(client: JobsClient, options: { json: boolean; now?: number }, write: (text: string) => void): Promise<number> {
  const jobs = await client.list();
  // --json: Ray's job details as Ray's Jobs API gives them, under `jobs` (client sessions included).
  if (options.json) {
    write(formatJson(jsonDocument({ jobs })));
    return 0;
  }
  const shown = jobs.filter((job) => !isClientServerDriver(job));
  const hidden = jobs.length - shown.length;
  write(renderJobs(jobRows(shown, options.now ?? Date.now())));
  if (hidden > 0)
    write(`(${hidden} Ray client session${hidden === 1 ? "" : "s"} not listed: drivers of ray:// connections, like cslr test's; --json has them)\n`);
  return 0;
}

export interface LogsIo extends FollowToEndIo {
  interrupts: Interrupts;
}

/**
 * Prints a job's log. With `follow`, keeps printing until the job ends and exits as `cslr run`
 * would (0, 1); Ctrl-C only stops following (130), the job goes on.
 */
export async function showLogs(client: JobsClient, id: string, options: { follow: boolean }, io: LogsIo): Promise<number> {
  if (!options.follow) {
    io.writeLog(await client.logs(id));
    return 0;
  }
  await client.job(id);
  const following = new AbortController();
  const unsubscribe = io.interrupts.subscribe(() => following.abort());
  return followToEnd(client, id, io, { signal: following.signal, settle: async () => unsubscribe() });
}

export async function stopJob(client: JobsClient, id: string, say: (line: string) => void): Promise<number> {
  const stopped = await client.stop(id);
  say(stopped ? `asked the cluster to stop job ${id}` : `job ${id} had already ended`);
  return 0;
}
