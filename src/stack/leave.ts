/**
 * `cslr leave`: takes this workstation's Ray nodes off the cluster cleanly. Its stack stops
 * (each node releases its lease or leaves the roster on the way), then the coordinator drops
 * whatever of this host is left on the roster. The coordinator itself does not leave: `cslr
 * down` there stops the cluster.
 */
import { downArgs } from "../compose/argv.ts";
import type { Session } from "./session.ts";
import { readSecret } from "../config/dotenv.ts";
import { leaveCluster } from "../election/client.ts";
import { CslrError } from "../errors.ts";
import { log } from "../log.ts";

export async function leaveStack(session: Session, options: { dryRun?: boolean }): Promise<void> {
  const model = session.model!;
  if (model.config.services.health.enabled) {
    throw new CslrError("this workstation is the coordinator (it runs the election service); `cslr down` here stops the whole cluster");
  }
  const token = readSecret(session.paths.envFile, "CSLR_CLUSTER_TOKEN");
  if (!token) throw new CslrError(`${session.paths.envFile}: no CSLR_CLUSTER_TOKEN; the coordinator needs it to take this host off its roster`);
  await session.compose.run(downArgs({ removeOrphans: true }));
  if (options.dryRun) return;
  const answer = await leaveCluster(model.election.url, token, model.host.name);
  if (!answer.ok) throw new CslrError(`stopped this host's nodes, but the coordinator did not confirm: ${answer.reason}`);
  const removed = answer.value.removed;
  log.success(`${model.host.name} left the cluster${removed.length > 0 ? ` (the coordinator dropped ${removed.join(", ")})` : ""}`);
}
