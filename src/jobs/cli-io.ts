/**
 * The process edges `cslr run` and `cslr jobs` share: where the head is, Ctrl-C, who is
 * submitting, and the client. Kept out of the pure modules so tests never touch them.
 */
import { hostname, userInfo } from "node:os";
import { CslrError } from "../errors.ts";
import { JobsClient } from "./client.ts";
import type { Interrupts } from "./follow-to-end.ts";
import type { JobsTarget } from "./target.ts";

/** What a command says about where the head is: `--address`, or the project (its roster) otherwise. */
export interface TargetOptions {
  address?: string;
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

export function whoAmI(): { user: string; host: string } {
  let user = process.env.USER ?? process.env.USERNAME ?? "unknown";
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): the environment's name will do.
  }
  return { user, host: hostname() };
}
