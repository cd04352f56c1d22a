/**
 * Where `cslr run` and `cslr jobs` send their requests: the head the election roster names,
 * at the dashboard port of the service it runs, with Ray's token when the cluster uses one.
 */
import { readSecret } from "../config/dotenv.ts";
import { loadProject, resolveProject } from "../config/load.ts";
import { hostOf } from "../config/net.ts";
import { headPortsOf, mlflowUrlForNodes } from "../config/urls.ts";
import { readCluster } from "../election/client.ts";
import { resolveHostAddress } from "../host/address.ts";
import { rosterUrl } from "../status/roster.ts";
import { addressOnlyTarget, type TargetOptions } from "./cli-io.ts";
import { dashboardUrl, noClusterError, noReadyHeadError, type JobsTarget } from "./target.ts";
import { CslrError, UsageError } from "../errors.ts";
import { existsSync } from "node:fs";

export async function projectTarget(options: TargetOptions): Promise<JobsTarget> {
  if (options.address) return addressOnlyTarget(options);
  const paths = resolveProject(options);
  // Outside a project the embedded example config would find whatever election service answers
  // on this machine's loopback (another project's, say): never guess the cluster.
  if (!paths.explicit.config && !existsSync(paths.config)) {
    if (process.env.RAY_API_SERVER_ADDRESS) return addressOnlyTarget(options);
    throw new UsageError(
      `no cslr project here (no config.yaml with nodes.yaml in ${process.cwd()} or a folder above it): run this in the project's folder, or name the head with --address http://HEAD:8265 (and RAY_AUTH_TOKEN when the cluster uses Ray tokens)`,
    );
  }
  const model = await loadProject(paths);
  const clusterToken = readSecret(paths.envFile, "CSLR_CLUSTER_TOKEN");
  const roster = await readCluster(rosterUrl(model), { token: clusterToken, timeoutMs: 3000 });
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
  const coordinator = model.config.services.health.enabled ? undefined : new URL(model.election.url).hostname;
  const hostAddress = (await resolveHostAddress(model.host.address, coordinator)) ?? "127.0.0.1";
  // Ray's token authentication protects the Jobs API; cslr holds the token in .env.
  const token = model.config.services.ray.auth === "token" ? readSecret(paths.envFile, "RAY_AUTH_TOKEN") : undefined;
  return { url, token, mlflowTrackingUri: mlflowUrlForNodes(model, hostAddress), projectName: model.project.name };
}
