/**
 * Where `cslr run` and `cslr jobs` send their requests. The head is found elsewhere (the
 * election roster); this module only says what the commands need from that lookup and the
 * errors a user meets when there is nothing to send to.
 */
import { CslrError } from "../errors.ts";

export interface JobsTarget {
  /** The head's dashboard, serving Ray's Jobs API: `http://10.0.0.5:8265`. */
  url: string;
  /** Ray's auth token when the cluster runs with RAY_AUTH_MODE=token. */
  token?: string;
  /** MLflow as the job reaches it from inside the cluster. */
  mlflowTrackingUri?: string;
  /** The default MLflow experiment name. */
  projectName: string;
}

export function noClusterError(): CslrError {
  return new CslrError("no cslr cluster is running here: start one with cslr up -d --wait");
}

export function noReadyHeadError(detail: string): CslrError {
  return new CslrError(`the cluster has no ready Ray head (${detail}): wait for one with cslr up --wait, or see why with cslr status`);
}

/**
 * The dashboard URL of a head the roster gives as `host:gcsPort` (or `host`): the same host,
 * the dashboard port of the service that is head.
 */
export function dashboardUrl(headAddress: string, dashboardPort: number): string {
  const host = headAddress.replace(/:\d{1,5}$/, "");
  return `http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${dashboardPort}`;
}
