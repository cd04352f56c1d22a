/**
 * `cslr handover [NODE]`: moves the Ray head on purpose (maintenance, an upgrade). The head
 * stops Ray while it keeps its lease, releases it, and NODE (or another whitelisted node that
 * joined it) is granted at once; reports how long until the new head was ready.
 */
import { readSecret } from "../config/dotenv.ts";
import { loadProject, resolveProject } from "../config/load.ts";
import { isHostname } from "../config/schema.ts";
import { electionAccess } from "../election/access.ts";
import { handOver } from "../election/handover.ts";
import { CslrError, UsageError } from "../errors.ts";
import { log } from "../log.ts";
import { stackFactsOfModel } from "../status/stack.ts";

export interface HandoverRequest {
  /** The node to become head; undefined or "" lets the service pick another whitelisted node. */
  node?: string;
  /** Seconds to wait for the new head, as given on the command line. */
  timeout: string;
}

export async function handoverStack(projectArgs: Parameters<typeof resolveProject>[0], request: HandoverRequest): Promise<void> {
  const to = request.node === undefined || request.node === "" ? null : request.node;
  if (to !== null && !isHostname(to)) throw new UsageError(`NODE ${to}: not a node name; expected one like ray-gpu or ray-gpu.ws2`);
  const seconds = Number(request.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) throw new UsageError(`--timeout ${request.timeout}: expected seconds from 1 to 3600`);
  const paths = resolveProject(projectArgs);
  const model = await loadProject(paths);
  const token = readSecret(paths.envFile, "CSLR_CLUSTER_TOKEN");
  if (!token) throw new CslrError(`${paths.envFile}: no CSLR_CLUSTER_TOKEN; the election service takes a handover only with the cluster's token`);
  // Pinned to the election service's certificate like every other client (src/election/access.ts).
  const election = electionAccess(model, paths, stackFactsOfModel(model).rosterUrl);
  const outcome = await handOver({ url: election.url, fetch: election.fetch, token, to, timeoutMs: seconds * 1000 });
  if (!outcome.ok) throw new CslrError(outcome.reason);
  const r = outcome.value;
  log.success(`head moved from ${r.from} (term ${r.oldTerm}) to ${r.to} (term ${r.newTerm}) in ${(r.tookMs / 1000).toFixed(1)} s`);
}
