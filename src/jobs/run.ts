/**
 * `cslr run`: pack the working directory, upload it unless the cluster has it, submit the job,
 * follow its log, and turn how it ended into an exit code (0 succeeded, 1 failed or stopped,
 * 130 after Ctrl-C). Every effect goes through `RunIo` or the client, so tests drive it whole.
 *
 * Ctrl-C: the first asks the head to stop the job (POST /api/jobs/{id}/stop; Ray sends SIGTERM,
 * then SIGKILL after RAY_JOB_STOP_WAIT_TIME_S, 3 s by default) and keeps printing until the job
 * has stopped; a second one stops waiting, leaves the job to the cluster and says how to follow
 * it. Before the job is submitted, Ctrl-C cancels; if the submission may have reached the head,
 * the job is stopped too (cslr chose its id, so it can).
 */
import { JobsApiError, type JobsClient } from "./client.ts";
import { abortableSleep } from "./follow.ts";
import { followToEnd, type FollowTimings, type Interrupts } from "./follow-to-end.ts";
import { exitInterrupted } from "./outcome.ts";
import { formatMiB, packWorkingDir, type WorkingDirPackage } from "./pack.ts";
import type { JobDetails } from "./spec.ts";
import { driverLabelSelector, placementSummarySchema } from "./placement.ts";
import { buildSubmitRequest, newSubmissionId, type GitInfo } from "./submit.ts";
import type { JobsTarget } from "./target.ts";

export interface RunRequest {
  workingDir: string;
  /** The job's command, one word per element (run by Ray through a shell, each word quoted). */
  command: string[];
  /** `--env` pairs in order. */
  env: [string, string][];
  /** MLflow experiment; the project name unless `--experiment`. */
  experiment: string;
  cpus?: number;
  gpus?: number;
  memoryBytes?: number;
  /** Submission id prefix (`--name`). */
  namePrefix: string;
  detach: boolean;
}

export interface RunIo {
  /** The job's log, as it arrives (stdout). */
  writeLog(text: string): void;
  /** cslr's own lines (stderr) that matter even under --quiet: failures, warnings, answers to Ctrl-C. */
  say(line: string): void;
  /** Progress and information (stderr), silent under --quiet; default: say. */
  info?(line: string): void;
  /** The submission id for scripts (stdout), with --detach. */
  printId(id: string): void;
  /** stdout is the terminal, so the job's last lines are still on screen at the end. */
  logOnScreen: boolean;
  interrupts: Interrupts;
  identity: { user: string; host: string };
  cslrVersion: string;
  random?: (length: number) => Uint8Array;
  git?: (dir: string) => GitInfo | undefined;
  pack?: (dir: string) => WorkingDirPackage;
  /** Timings of the follower, for tests. */
  follow?: FollowTimings;
}

class Interrupted extends Error {
  constructor() {
    super("interrupted");
  }
}

async function uploadIfNeeded(client: JobsClient, pkg: WorkingDirPackage, io: RunIo, signal: AbortSignal): Promise<void> {
  const size = `${pkg.fileCount} files, ${formatMiB(pkg.totalBytes)} → ${formatMiB(pkg.bytes.length)} zip`;
  if (await client.packageExists(pkg.name, signal)) {
    (io.info ?? io.say)(`working directory unchanged (${size}); the cluster has ${pkg.name}`);
    return;
  }
  await client.uploadPackage(pkg.name, pkg.bytes as Uint8Array<ArrayBuffer>, signal);
  (io.info ?? io.say)(`uploaded the working directory (${size}) as ${pkg.name}`);
}

/**
 * Ray's dashboard answers 500 "No available agent to submit job, please try again later."
 * when the head's dashboard agent has not published its address within 10 s (job_head.py):
 * a head that (re)started moments ago. The job was not created, so the same request (same
 * submission id) is sent again, for at most a minute, as Ray asks.
 */
const noAgentYet = /No available agent to submit job/;
const agentRetryMs = 2000;
const agentRetryForMs = 60_000;

async function submitWhenAgentReady(client: JobsClient, body: Parameters<JobsClient["submit"]>[0], io: RunIo, signal: AbortSignal): Promise<void> {
  const now = io.follow?.now ?? Date.now;
  const sleep = io.follow?.sleep ?? abortableSleep;
  const deadline = now() + agentRetryForMs;
  for (;;) {
    try {
      await client.submit(body, signal);
      return;
    } catch (error) {
      const retryable = error instanceof JobsApiError && error.status === 500 && noAgentYet.test(error.message);
      if (!retryable || now() >= deadline || signal.aborted) throw error;
      (io.info ?? io.say)('the head\'s dashboard agent is not ready yet (Ray: "No available agent to submit job"); submitting again');
      await sleep(agentRetryMs, signal);
      if (signal.aborted) throw signal.reason;
    }
  }
}

/**
 * The driver off the head when another node is alive (placement.ts), unless the job asks for
 * entrypoint resources. A dashboard that cannot say leaves the driver to Ray's default.
 */
async function driverSelector(request: RunRequest, client: JobsClient, signal: AbortSignal): Promise<Record<string, string> | undefined> {
  if (request.cpus !== undefined || request.gpus !== undefined || request.memoryBytes !== undefined) return undefined;
  const summary = await client.nodeSummary(placementSummarySchema, signal).catch(() => undefined);
  return summary && driverLabelSelector(summary);
}

function submitBody(request: RunRequest, target: JobsTarget, pkg: WorkingDirPackage, id: string, io: RunIo, selector: Record<string, string> | undefined) {
  return buildSubmitRequest({
    driverSelector: selector,
    command: request.command,
    submissionId: id,
    workingDirUri: pkg.uri,
    mlflowTrackingUri: target.mlflowTrackingUri,
    experiment: request.experiment,
    env: request.env,
    cpus: request.cpus,
    gpus: request.gpus,
    memoryBytes: request.memoryBytes,
    origin: { ...io.identity, workingDir: pkg.root, cslrVersion: io.cslrVersion },
    git: io.git?.(pkg.root),
  });
}

/** Ctrl-C before the job ran: a submission that may have reached the head (`submitted`) is stopped too. */
async function cancelled(client: JobsClient, submitted: string | undefined, io: RunIo): Promise<number> {
  if (submitted) {
    // The head may have accepted the job before the interrupt cut the answer off.
    const stopped = await client.stop(submitted, AbortSignal.timeout(5000)).catch(() => false);
    io.say(stopped ? `cancelled; stopped job ${submitted}, which had just been submitted` : "cancelled before the job started");
  } else {
    io.say("cancelled before the job was submitted");
  }
  return exitInterrupted;
}

export async function runJob(request: RunRequest, target: JobsTarget, client: JobsClient, io: RunIo): Promise<number> {
  const info = io.info ?? io.say;
  const early = new AbortController();
  const following = new AbortController();
  let id: string | undefined;
  let phase: "preparing" | "submitting" | "submitted" = "preparing";
  let stopAsked = false;
  let stopCall: Promise<unknown> = Promise.resolve();

  const unsubscribe = io.interrupts.subscribe(() => {
    if (phase !== "submitted") {
      early.abort(new Interrupted());
    } else if (!stopAsked) {
      stopAsked = true;
      io.say(`stopping job ${id} (Ctrl-C again to stop waiting for it)`);
      stopCall = client.stop(id!).catch((error: Error) => io.say(error.message));
    } else {
      following.abort();
    }
  });

  try {
    await client.version(early.signal);
    const pkg = (io.pack ?? packWorkingDir)(request.workingDir);
    for (const note of pkg.notes) io.say(`note: ${note}`);
    await uploadIfNeeded(client, pkg, io, early.signal);

    id = newSubmissionId(request.namePrefix, io.random);
    const body = submitBody(request, target, pkg, id, io, await driverSelector(request, client, early.signal));
    phase = "submitting";
    await submitWhenAgentReady(client, body, io, early.signal);
    phase = "submitted";
  } catch (error) {
    unsubscribe();
    if (!(error instanceof Interrupted)) throw error;
    return cancelled(client, phase === "submitting" ? id : undefined, io);
  }

  if (request.detach) {
    unsubscribe();
    io.printId(id);
    info(`submitted job ${id}; follow it with cslr jobs logs ${id} -f`);
    return 0;
  }

  info(`submitted job ${id}; its log follows (Ctrl-C stops it)`);
  let lastStatus = "PENDING";
  return followToEnd(client, id, io, {
    signal: following.signal,
    onStatus: (job: JobDetails) => {
      if (job.status !== lastStatus && (job.status === "PENDING" || job.status === "RUNNING")) info(`job ${id} is ${job.status}`);
      lastStatus = job.status;
    },
    settle: async () => {
      unsubscribe();
      await stopCall;
    },
    stopAsked: () => stopAsked,
  });
}
