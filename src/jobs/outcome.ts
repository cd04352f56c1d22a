/**
 * How a followed job ended, as an exit code and the lines to print on stderr (pure).
 *   SUCCEEDED → 0; FAILED, or STOPPED by someone else → 1, with the job's last lines and why;
 *   anything after the user's Ctrl-C → 130.
 */
import { formatDuration, oneLine } from "./answers.ts";
import type { JobDetails } from "./spec.ts";

export const exitInterrupted = 130;
/** Lines of the job's log shown with a failure (Ray's own failure message keeps 10). */
export const lastLineCount = 10;

/** The longest line kept (its end): a job that never prints a newline (progress bars redrawn with CR) must not grow memory. */
export const maxKeptLineChars = 4096;

/** The last complete lines of what a job printed, and the line it is still writing; bounded in memory. */
export class LastLines {
  private lines: string[] = [];
  private partial = "";

  push(text: string): void {
    const parts = text.split("\n");
    parts[0] = this.partial + parts[0]!;
    this.partial = keepEnd(parts.pop()!);
    this.lines.push(...parts.slice(-lastLineCount).map(keepEnd));
    if (this.lines.length > lastLineCount) this.lines = this.lines.slice(-lastLineCount);
  }

  get(): string[] {
    const all = this.partial === "" ? this.lines : [...this.lines, this.partial];
    return all.slice(-lastLineCount);
  }
}

function keepEnd(line: string): string {
  return line.length > maxKeptLineChars ? line.slice(-maxKeptLineChars) : line;
}

export interface Outcome {
  exitCode: number;
  lines: string[];
}

function ranFor(job: JobDetails): string {
  return job.start_time != null && job.end_time != null ? ` in ${formatDuration(job.end_time - job.start_time)}` : "";
}

/**
 * Ray's FAILED message is `Job entrypoint command failed with exit code N, last available logs
 * (truncated to 20,000 chars):` followed by the log's last lines (job_supervisor.py), or a
 * traceback when the job could not start: its first line says why, the rest is context.
 */
function whyFailed(job: JobDetails): string {
  if (job.driver_exit_code != null && job.driver_exit_code !== 0) return `its command exited with code ${job.driver_exit_code}`;
  const first = (job.message ?? "").split("\n").find((l) => l.trim() !== "");
  const errorType = job.error_type ? ` (${oneLine(job.error_type, 60)})` : "";
  return first ? `${oneLine(first)}${errorType}` : `no reason given${errorType}`;
}

function contextLines(job: JobDetails, streamed: readonly string[]): string[] {
  const lines = streamed.length > 0 ? streamed : (job.message ?? "").split("\n").slice(1);
  return lines
    .filter((l) => l.trim() !== "")
    .slice(-lastLineCount)
    .map((l) => `  | ${oneLine(l, 300)}`);
}

export interface OutcomeInput {
  job: JobDetails;
  id: string;
  /** The user pressed Ctrl-C and cslr asked the head to stop the job. */
  stoppedByUser: boolean;
  /** The last lines cslr printed from the job's log. */
  lastLines: readonly string[];
  /** Those lines are still on the user's screen (stdout is the terminal), so not repeated. */
  linesOnScreen: boolean;
}

export function outcomeOf(input: OutcomeInput): Outcome {
  const { job, id } = input;
  const context = () => (input.linesOnScreen && input.lastLines.length > 0 ? [] : contextLines(job, input.lastLines));
  const fullLog = `see its whole log with cslr jobs logs ${id}`;
  if (input.stoppedByUser) {
    const how = job.status === "STOPPED" ? "stopped" : `ended ${job.status} before the stop took effect`;
    return { exitCode: exitInterrupted, lines: [`job ${id} ${how}`] };
  }
  switch (job.status) {
    case "SUCCEEDED":
      return { exitCode: 0, lines: [`job ${id} succeeded${ranFor(job)}`] };
    case "FAILED":
      return { exitCode: 1, lines: [...context(), `job ${id} failed${ranFor(job)}: ${whyFailed(job)}; ${fullLog}`] };
    case "STOPPED":
      return {
        exitCode: 1,
        lines: [...context(), `job ${id} was stopped on the cluster (by cslr jobs stop, ray job stop or the dashboard); ${fullLog}`],
      };
    default:
      return { exitCode: 1, lines: [`job ${id} is still ${job.status}; follow it with cslr jobs logs ${id} -f`] };
  }
}
