/**
 * The process edges `cslr run` and `cslr jobs` share: where the head is, Ctrl-C, who is
 * submitting, and the client. Kept out of the pure modules so tests never touch them.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { CslrError } from "../errors.ts";
import { JobsClient } from "./client.ts";
import type { Interrupts } from "./follow-to-end.ts";
import type { JobsTarget } from "./target.ts";

/** What a command says about where the head is: `--address`, or the project (its roster) otherwise. */
export interface TargetOptions {
  address?: string;
  /** The coordinator's URL (`--cluster`), for use outside a project. */
  cluster?: string;
  config?: string;
  nodes?: string;
  out?: string;
}

/** Finds the head for a command (src/jobs/project-target.ts through the roster; `--address` alone in tests). */
export type ResolveTarget = (options: TargetOptions) => Promise<JobsTarget>;

/**
 * Until the roster lookup is wired in: `--address`, else Ray's own RAY_API_SERVER_ADDRESS; the
 * token from RAY_AUTH_TOKEN (the variable Ray's token loader reads).
 */
export const addressOnlyTarget: ResolveTarget = async ({ address }) => {
  const url = address ?? process.env.RAY_API_SERVER_ADDRESS;
  if (!url) throw new CslrError("no head to send the job to: pass --address http://HEAD:8265");
  return {
    url: /^https?:\/\//.test(url) ? url : `http://${url}`,
    token: process.env.RAY_AUTH_TOKEN || undefined,
    mlflowTrackingUri: process.env.MLFLOW_TRACKING_URI || undefined,
    projectName: "cslr",
  };
};

export function clientFor(target: JobsTarget, version: string): JobsClient {
  return new JobsClient({ url: target.url, token: target.token, userAgent: `cslr/${version}` });
}

/** SIGINT while a handler is subscribed; the default (exit) otherwise. */
export const processInterrupts: Interrupts = {
  subscribe(handler) {
    const onSigint = () => handler();
    process.on("SIGINT", onSigint);
    return () => process.off("SIGINT", onSigint);
  },
};

/**
 * The submitting user's name: the passwd entry of this process's uid, then $USER/$LOGNAME,
 * then `uid-N`. Not os.userInfo() alone: Bun's answers "unknown" when USER is unset (seen).
 */
export function userNameOf(uid: number | undefined, passwd: string | undefined, env: Record<string, string | undefined>): string {
  const entry =
    uid === undefined
      ? undefined
      : passwd
          ?.split("\n")
          .map((line) => line.split(":"))
          .find((f) => f.length >= 3 && f[2] === String(uid));
  const fromPasswd = entry?.[0];
  if (fromPasswd) return fromPasswd;
  const fromEnv = env.USER || env.LOGNAME || env.USERNAME;
  if (fromEnv) return fromEnv;
  return uid === undefined ? "unknown" : `uid-${uid}`;
}

function readPasswd(): string | undefined {
  try {
    return readFileSync("/etc/passwd", "utf8");
  } catch {
    return undefined;
  }
}

export function whoAmI(): { user: string; host: string } {
  return { user: userNameOf(process.getuid?.(), readPasswd(), process.env), host: hostname() };
}

/** Log text held for a slow reader before cslr starts skipping it. */
export const maxPendingLogBytes = 8 * 1024 * 1024;

/**
 * Writes a followed log to a stream without holding more than `maxPending` bytes that the
 * reader (a slow pipe, a paused terminal) has not taken yet: past that, text is skipped and
 * counted, and a note says how much once the reader catches up. The WebSocket the log comes
 * from cannot be paused, so without this a fast job grows cslr's memory without bound.
 */
export function boundedLogWriter(stream: { write(text: string, done: () => void): unknown }, maxPending = maxPendingLogBytes): (text: string) => void {
  let pending = 0;
  let skipped = 0;
  const write = (text: string) => {
    const size = Buffer.byteLength(text);
    pending += size;
    stream.write(text, () => (pending -= size));
  };
  return (text) => {
    if (pending > maxPending) {
      skipped += text.length;
      return;
    }
    if (skipped > 0) {
      write(`\n[cslr: ${skipped} characters of the log skipped while the output could not keep up; cslr jobs logs ID prints it all]\n`);
      skipped = 0;
    }
    write(text);
  };
}
