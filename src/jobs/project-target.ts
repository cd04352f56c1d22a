/**
 * Where `cslr run` and `cslr jobs` send their requests: the head the election roster names,
 * at the dashboard port of the service it runs, with Ray's token when the cluster uses one.
 */
import { readSecret } from "../config/dotenv.ts";
import { loadProject, resolveProject, type ProjectPaths } from "../config/load.ts";
import type { Model } from "../config/model.ts";
import { hostOf, parseIpv4 } from "../config/net.ts";
import { headPortsOf, mlflowUrlForNodes } from "../config/urls.ts";
import { readCluster } from "../election/client.ts";
import { electionAccess } from "../election/access.ts";
import { pinnedFetch } from "../election/tls.ts";
import { hostAddressOf } from "../config/host-address.ts";
import { addressOnlyTarget, type TargetOptions } from "./cli-io.ts";
import { dashboardUrl, noClusterError, noReadyHeadError, type JobsTarget } from "./target.ts";
import { CslrError } from "../errors.ts";
import { serviceOf } from "../config/names.ts";
import { clientProfilePath, clusterOf, noClusterNamedError, readClientProfile } from "./client-profile.ts";
import { existsSync } from "node:fs";

/**
 * Where a client reaches the head: its advertised address, except a one-machine stack's head,
 * which advertises its service name (ray-cpu:6379) and is published on the coordinator's host.
 */
export function reachableHeadAddress(headAddress: string, coordinator: string): string {
  const host = hostOf(headAddress);
  const routable = parseIpv4(host) !== undefined || host.includes(":") || host.includes(".");
  return routable ? headAddress : new URL(coordinator).hostname;
}

/** The dashboard ports when no profile names them: the config's defaults. */
const defaultDashboardPorts: Record<string, number> = { "ray-cpu": 8265, "ray-gpu": 8266 };

/**
 * Outside a project: the cluster named by --cluster, CSLR_CLUSTER or the client profile
 * (`cslr join --client`), whose roster names the head. The profile also gives Ray's token,
 * MLflow's address and the experiment when it is the profile's cluster.
 */
async function clusterTarget(options: TargetOptions): Promise<JobsTarget> {
  if (options.cluster === undefined && !process.env.CSLR_CLUSTER && process.env.RAY_API_SERVER_ADDRESS) return addressOnlyTarget(options);
  const profilePath = clientProfilePath();
  const profile = readClientProfile(profilePath);
  const coordinator = clusterOf(options.cluster, process.env, profile);
  if (!coordinator) throw noClusterNamedError(process.cwd(), profilePath);
  const own = profile?.coordinator === coordinator ? profile : undefined;
  // The profile's pin (from the join token) is the only way to trust an HTTPS coordinator here.
  const roster = await readCluster(coordinator, { timeoutMs: 3000, ...(own?.pin ? { fetch: pinnedFetch(own.pin) } : {}) });
  if ("error" in roster) throw new CslrError(`the cluster's coordinator at ${coordinator} does not answer (${roster.error}): is its stack up?`);
  const head = roster.roster.head;
  if (!head) throw noReadyHeadError("no head is elected");
  if (!head.ready) throw noReadyHeadError(`${head.node} is starting`);
  const service = serviceOf(head.node);
  const port = own?.dashboardPorts[service as "ray-cpu" | "ray-gpu"] ?? defaultDashboardPorts[service];
  if (port === undefined) throw noReadyHeadError(`head ${head.node} is not a ray-cpu or ray-gpu node, so its dashboard port is unknown here`);
  return {
    url: dashboardUrl(reachableHeadAddress(head.address, coordinator), port),
    token: own?.rayToken ?? (process.env.RAY_AUTH_TOKEN || undefined),
    mlflowTrackingUri: own?.mlflowTrackingUri ?? (process.env.MLFLOW_TRACKING_URI || undefined),
    projectName: own?.experiment ?? "cslr",
  };
}

export async function projectTarget(options: TargetOptions): Promise<JobsTarget> {
  if (options.address) return addressOnlyTarget(options);
  if (options.cluster !== undefined) return clusterTarget(options);
  const paths = resolveProject(options);
  // Outside a project the embedded example config would find whatever election service answers
  // on this machine's loopback (another project's, say): never guess the cluster.
  if (!paths.explicit.config && !existsSync(paths.config)) return clusterTarget(options);
  return modelTarget(await loadProject(paths), paths);
}

/** The head of a loaded project's cluster (also what `up --wait` checks before it says ready). */
export async function modelTarget(model: Model, paths: ProjectPaths): Promise<JobsTarget> {
  const clusterToken = readSecret(paths.envFile, "CSLR_CLUSTER_TOKEN");
  const election = electionAccess(model, paths);
  const roster = await readCluster(election.url, { token: clusterToken, timeoutMs: 3000, fetch: election.fetch });
  if ("error" in roster) {
    const error = noClusterError();
    throw new CslrError(`${error.message} (${roster.error})`);
  }
  const head = roster.roster.head;
  if (!head) throw noReadyHeadError("no head is elected");
  if (!head.ready) throw noReadyHeadError(`${head.node} is starting`);
  const ports = headPortsOf(model, head.node);
  if (!ports) throw noReadyHeadError(`head ${head.node} is not a ray-cpu or ray-gpu node, so its dashboard port is unknown here`);
  // A head of this stack on one workstation publishes its dashboard on this host's loopback.
  const local = model.network.mode === "bridge" && model.rayNodes.some((n) => n.name === head.node);
  const url = local ? `http://127.0.0.1:${ports.dashboard}` : dashboardUrl(`${hostOf(head.address)}:${ports.head}`, ports.dashboard);
  const hostAddress = await hostAddressOf(model);
  // Ray's token authentication protects the Jobs API; cslr holds the token in .env.
  const token = model.config.services.ray.auth === "token" ? readSecret(paths.envFile, "RAY_AUTH_TOKEN") : undefined;
  return { url, token, mlflowTrackingUri: mlflowUrlForNodes(model, hostAddress), projectName: model.project.name };
}
