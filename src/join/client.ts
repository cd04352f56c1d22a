/**
 * `cslr join --client URL --token TOKEN`: makes this machine (a laptop, any OS) a client of a
 * cluster, not a member. Asks the coordinator for its join information and writes only the
 * client profile (src/jobs/client-profile.ts): no config.yaml, no Ray node, nothing to start.
 */
import { getJoinInfo } from "../election/client.ts";
import { pinnedFetch } from "../election/tls.ts";
import type { JoinToken } from "./token.ts";
import { CslrError } from "../errors.ts";
import { clientProfilePath, writeClientProfile, type ClientProfile } from "../jobs/client-profile.ts";
import { log } from "../log.ts";

export async function joinAsClient(url: string, token: JoinToken): Promise<string> {
  const answer = await getJoinInfo(url, token.secret, token.pin ? { fetch: pinnedFetch(token.pin) } : {});
  if (!answer.ok) {
    if (answer.status === 401) throw new CslrError(`the coordinator at ${url} refused the token: use the join token that cslr status prints there`);
    if (answer.status === 0) throw new CslrError(`cannot reach the coordinator: ${answer.reason} (is its stack up, and its port open to this machine?)`);
    throw new CslrError(`the coordinator at ${url} cannot take clients: ${answer.reason}`);
  }
  const info = answer.value;
  if (info.ray.auth === "token" && !info.ray.authToken) {
    throw new CslrError("the coordinator uses Ray's token authentication but did not hand out the token: restart its health service (cslr up there)");
  }
  const profile: ClientProfile = {
    version: 1,
    coordinator: url.replace(/\/+$/, ""),
    experiment: info.project,
    dashboardPorts: { "ray-cpu": info.ray.cpu.dashboard_port, "ray-gpu": info.ray.gpu.dashboard_port },
    ...(info.ray.authToken ? { rayToken: info.ray.authToken } : {}),
    ...(info.mlflow.trackingUri ? { mlflowTrackingUri: info.mlflow.trackingUri } : {}),
    ...(token.pin ? { pin: token.pin } : {}),
  };
  const path = clientProfilePath();
  writeClientProfile(path, profile);
  log.success(
    `this machine is a client of ${info.project} at ${profile.coordinator}: wrote ${path} (0600); \`cslr run -- COMMAND\` from any folder now runs there`,
  );
  return path;
}
