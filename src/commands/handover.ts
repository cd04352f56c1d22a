/**
 * `cslr handover [NODE]`: moves the Ray head on purpose (maintenance, an upgrade). The head
 * stops Ray while it keeps its lease, releases it, and NODE (or another whitelisted node) is
 * granted at once; prints how long until the new head was ready.
 */
import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { readSecret } from "../config/dotenv.ts";
import { loadProject, resolveProject } from "../config/load.ts";
import { isHostname } from "../config/schema.ts";
import { handOver } from "../election/handover.ts";
import { CslrError, UsageError } from "../errors.ts";
import { log } from "../log.ts";
import { stackFactsOfModel } from "../status/stack.ts";

export default defineCommand({
  meta: { name: "handover", description: "Move the Ray head to NODE (or any other whitelisted node) and print how long it took" },
  args: {
    ...commonArgs,
    node: { type: "positional", required: false, description: "The whitelisted node to become head (default: any other)", valueHint: "NODE" },
    timeout: { type: "string", default: "120", description: "Seconds to wait for the new head to be ready", valueHint: "SECONDS" },
  },
  async run({ args }) {
    const to = args.node === undefined || args.node === "" ? null : String(args.node);
    if (to !== null && !isHostname(to)) throw new UsageError(`NODE ${to}: not a node name; expected one like ray-gpu or ray-gpu.ws2`);
    const seconds = Number(args.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) throw new UsageError(`--timeout ${args.timeout}: expected seconds from 1 to 3600`);
    const paths = resolveProject(args);
    const model = await loadProject(paths);
    const token = readSecret(paths.envFile, "CSLR_CLUSTER_TOKEN");
    if (!token) throw new CslrError(`${paths.envFile}: no CSLR_CLUSTER_TOKEN; the election service takes a handover only with the cluster's token`);
    const url = stackFactsOfModel(model).rosterUrl;
    const outcome = await handOver({ url, token, to, timeoutMs: seconds * 1000 });
    if (!outcome.ok) throw new CslrError(outcome.reason);
    const r = outcome.value;
    log.success(`head moved from ${r.from} (term ${r.oldTerm}) to ${r.to} (term ${r.newTerm}) in ${(r.tookMs / 1000).toFixed(1)} s`);
  },
});
