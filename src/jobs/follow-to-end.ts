/**
 * Following a submitted job to its end, for `cslr run` and `cslr jobs logs -f`: its log as it
 * arrives, then how it ended as lines and an exit code (0, 1, or 130 after Ctrl-C). The one home
 * of the lines said when the follow is cut short (Ctrl-C twice, the head lost).
 */
import { oneLine } from "./answers.ts";
import type { JobsClient } from "./client.ts";
import { followJob, type FollowOptions } from "./follow.ts";
import { exitInterrupted, LastLines, outcomeOf } from "./outcome.ts";
import type { JobDetails } from "./spec.ts";

/** Ctrl-C, as the command delivers it (process.on("SIGINT") in the binary, a call in tests). */
export interface Interrupts {
  subscribe(handler: () => void): () => void;
}

/** Timings of the follower, for tests. */
export type FollowTimings = Pick<FollowOptions, "sleep" | "now" | "watchdogMs" | "graceMs" | "pollMs" | "maxFailures" | "retryMs">;

export interface FollowToEndIo {
  /** The job's log, as it arrives (stdout). */
  writeLog(text: string): void;
  /** Lines that matter even under --quiet (a failed job, a lost head). */
  say(line: string): void;
  /** Information, silent under --quiet; default: say. */
  info?(line: string): void;
  /** stdout is the terminal, so the job's last lines are still on screen at the end. */
  logOnScreen: boolean;
  follow?: FollowTimings;
}

export interface FollowToEndOptions {
  /** Aborted: stop following and leave the job to the cluster. */
  signal: AbortSignal;
  onStatus?: (job: JobDetails) => void;
  /** Runs once the follow ended, before the outcome is read (unsubscribe, wait for a stop request). */
  settle?: () => Promise<unknown>;
  /** Whether the user asked for the job to stop (Ctrl-C once in `cslr run`). */
  stopAsked?: () => boolean;
}

export function lostLine(id: string, url: string, detail: string): string {
  return `lost the cluster while following job ${id}: the head at ${url} stopped answering (${oneLine(detail, 120)}); check it with cslr status, and once it is back see the job with cslr jobs logs ${id}`;
}

export function leftRunningLine(id: string): string {
  return `stopped waiting for job ${id}, which may still be running: follow it with cslr jobs logs ${id} -f, stop it with cslr jobs stop ${id}`;
}

/** Prints the job's log until it ends, then how it ended; returns the exit code. */
export async function followToEnd(client: JobsClient, id: string, io: FollowToEndIo, options: FollowToEndOptions): Promise<number> {
  const lastLines = new LastLines();
  const end = await followJob({
    ...io.follow,
    client,
    id,
    signal: options.signal,
    write: (text) => {
      lastLines.push(text);
      io.writeLog(text);
    },
    onStatus: options.onStatus,
  });
  await options.settle?.();
  const stopAsked = options.stopAsked?.() ?? false;
  if (end.kind === "aborted") {
    io.say(leftRunningLine(id));
    return exitInterrupted;
  }
  if (end.kind === "lost") {
    io.say(lostLine(id, client.url, end.detail));
    return stopAsked ? exitInterrupted : 1;
  }
  const outcome = outcomeOf({ job: end.job, id, stoppedByUser: stopAsked, lastLines: lastLines.get(), linesOnScreen: io.logOnScreen });
  for (const line of outcome.lines) (outcome.exitCode === 0 ? (io.info ?? io.say) : io.say)(line);
  return outcome.exitCode;
}
