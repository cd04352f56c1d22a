/**
 * Follows a job's log to the end: prints each piece of the log once, and says how the job
 * ended, or that the head went away.
 *
 * Why the WebSocket (`/api/jobs/{id}/logs/tail`) and not polling `GET /logs`: GET returns the
 * whole log file on every call (job_log_storage_client.py get_logs), so polling a long training
 * run re-downloads megabytes each second; the tail sends each line once, in frames of up to
 * 10 lines, and the head closes it when the job ends (job_manager.py tail_job_logs). It is what
 * `ray job submit` reads. Bun's WebSocket takes the Authorization header.
 *
 * Around it: a watchdog reads the job's status every few seconds, which notices a head that
 * went silent without closing the socket and a stream that outlives its job; a stream that
 * never opens (a proxy that refuses upgrades) falls back to polling GET /logs and printing only
 * what is new. A reconnected tail starts again from the first line, so what was printed is
 * skipped (`unseen`).
 */
import type { JobsApiError, JobsClient } from "./client.ts";
import { isTerminal, type JobDetails } from "./spec.ts";

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** setTimeout that an AbortSignal cuts short. */
export const abortableSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

/** How much of the log has been printed, and how much of the current stream has arrived. */
export interface LogCursor {
  printed: number;
  received: number;
}

/** The part of `chunk` not printed yet; advances the cursor (pure but for the cursor). */
export function unseen(cursor: LogCursor, chunk: string): string {
  const skip = Math.max(0, cursor.printed - cursor.received);
  cursor.received += chunk.length;
  const fresh = skip >= chunk.length ? "" : chunk.slice(skip);
  cursor.printed += fresh.length;
  return fresh;
}

/** What a whole-log read (GET /logs) adds to what was printed; advances the cursor. */
export function unseenSuffix(cursor: LogCursor, fullLog: string): string {
  if (fullLog.length <= cursor.printed) return "";
  const fresh = fullLog.slice(cursor.printed);
  cursor.printed = fullLog.length;
  return fresh;
}

export type FollowEnd = { kind: "ended"; job: JobDetails } | { kind: "lost"; detail: string } | { kind: "aborted" };

export interface FollowOptions {
  client: JobsClient;
  id: string;
  write: (text: string) => void;
  /** Called with each status the watchdog reads, for "job is RUNNING" lines. */
  onStatus?: (job: JobDetails) => void;
  /** Stops following (the user's second Ctrl-C); the job is left as it is. */
  signal?: AbortSignal;
  sleep?: Sleep;
  now?: () => number;
  /** Status reads while streaming. */
  watchdogMs?: number;
  /** How long a stream may outlive its job's terminal status (the tail sleeps 1 s at EOF). */
  graceMs?: number;
  /** GET /logs interval when the WebSocket cannot be used. */
  pollMs?: number;
  /** Consecutive failed status reads before the head counts as gone. */
  maxFailures?: number;
  /** Pause between failed status reads. */
  retryMs?: number;
}

interface Settings extends Required<Omit<FollowOptions, "onStatus" | "signal">> {
  onStatus?: (job: JobDetails) => void;
  signal?: AbortSignal;
}

type Status = { job: JobDetails } | { lost: string };

/** Reads the job's status, retrying a head that does not answer; `lost` after maxFailures. */
async function readStatus(s: Settings, signal = s.signal): Promise<Status> {
  let detail = "";
  for (let attempt = 1; attempt <= s.maxFailures; attempt++) {
    try {
      const job = await s.client.job(s.id, signal);
      s.onStatus?.(job);
      return { job };
    } catch (error) {
      if (signal?.aborted) return { lost: "aborted" };
      const apiError = error as JobsApiError;
      detail = apiError.detail ?? String(error);
      // A head that answers that the job does not exist lost its state: retrying will not help.
      if (apiError.kind === "http" && apiError.status === 404) return { lost: "the head no longer knows the job" };
      if (apiError.kind === "answer") return { lost: apiError.message };
      if (attempt < s.maxFailures) await s.sleep(s.retryMs, signal);
    }
  }
  return { lost: detail };
}

/** Prints what GET /logs has beyond what was printed; false when the head did not answer. */
async function sweep(s: Settings, cursor: LogCursor): Promise<boolean> {
  try {
    const fresh = unseenSuffix(cursor, await s.client.logs(s.id, s.signal));
    if (fresh) s.write(fresh);
    return true;
  } catch {
    return false;
  }
}

interface Streamed {
  opened: boolean;
  /** The head closed the tail normally (1000): it delivered the whole log. */
  complete: boolean;
  /** What the watchdog saw when it closed the stream. */
  status?: Status;
}

async function streamOnce(s: Settings, cursor: LogCursor): Promise<Streamed> {
  const stream = new AbortController();
  const onAbort = () => stream.abort();
  s.signal?.addEventListener("abort", onAbort, { once: true });
  cursor.received = 0;
  let watched: Status | undefined;
  let closedByUs = false;
  const watchdog = (async () => {
    let terminalSince: number | undefined;
    while (!stream.signal.aborted) {
      await s.sleep(terminalSince === undefined ? s.watchdogMs : Math.min(s.watchdogMs, s.graceMs), stream.signal);
      if (stream.signal.aborted) return;
      const status = await readStatus(s, stream.signal);
      if (stream.signal.aborted) return;
      if ("lost" in status || isTerminal(status.job.status)) {
        watched = status;
        if ("lost" in status || (terminalSince !== undefined && s.now() - terminalSince >= s.graceMs)) {
          closedByUs = true;
          stream.abort();
          return;
        }
        terminalSince ??= s.now();
      }
    }
  })();
  const end = await s.client.tail(
    s.id,
    (chunk) => {
      const fresh = unseen(cursor, chunk);
      if (fresh) s.write(fresh);
    },
    stream.signal,
  );
  stream.abort();
  await watchdog;
  s.signal?.removeEventListener("abort", onAbort);
  return { opened: end.opened, complete: end.code === 1000 && !closedByUs && !s.signal?.aborted, status: closedByUs ? watched : undefined };
}

async function poll(s: Settings, cursor: LogCursor): Promise<FollowEnd> {
  while (true) {
    if (s.signal?.aborted) return { kind: "aborted" };
    await sweep(s, cursor);
    const status = await readStatus(s);
    if (s.signal?.aborted) return { kind: "aborted" };
    if ("lost" in status) return { kind: "lost", detail: status.lost };
    if (isTerminal(status.job.status)) {
      await sweep(s, cursor);
      return { kind: "ended", job: status.job };
    }
    await s.sleep(s.pollMs, s.signal);
  }
}

export async function followJob(options: FollowOptions): Promise<FollowEnd> {
  const s: Settings = {
    sleep: abortableSleep,
    now: Date.now,
    watchdogMs: 5000,
    graceMs: 3000,
    pollMs: 1000,
    maxFailures: 3,
    retryMs: 1000,
    ...options,
  };
  const cursor: LogCursor = { printed: 0, received: 0 };
  for (let streams = 0; streams < 4; streams++) {
    const streamed = await streamOnce(s, cursor);
    if (s.signal?.aborted) return { kind: "aborted" };
    if (!streamed.opened && streams === 0) return poll(s, cursor);
    const status = streamed.status ?? (await readStatus(s));
    if (s.signal?.aborted) return { kind: "aborted" };
    if ("lost" in status) return { kind: "lost", detail: status.lost };
    if (isTerminal(status.job.status)) {
      // The tail may end without having delivered everything (or anything: some heads close it
      // at once): the rest is in GET /logs, and the cursor prints only what was not printed.
      await sweep(s, cursor);
      return { kind: "ended", job: status.job };
    }
    // A tail that closed without a line while the job runs does not work on this head: poll.
    if (cursor.received === 0) return poll(s, cursor);
    // The stream ended but the job goes on (the head restarted its dashboard): reconnect.
  }
  return poll(s, cursor);
}
