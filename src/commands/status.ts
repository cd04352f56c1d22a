import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { psArgs } from "../compose/argv.ts";
import { parsePs } from "../compose/ps.ts";
import { openSession } from "../compose/session.ts";
import { readSecret } from "../config/dotenv.ts";
import { isHostname } from "../config/schema.ts";
import { readCluster } from "../election/client.ts";
import { UsageError } from "../errors.ts";
import { resolveHostAddress } from "../host/address.ts";
import { log } from "../log.ts";
import { rosterUrl } from "../status/roster.ts";
import { buildStatus, renderStatus } from "../status/view.ts";

export default defineCommand({
  meta: { name: "status", description: "Services, the Ray head and its workers, and the addresses to use" },
  args: {
    ...commonArgs,
    json: { type: "boolean", description: "Print the same data as JSON on stdout, for scripts" },
    host: {
      type: "string",
      description: "Address other machines reach this host by (default: auto-detected)",
      valueHint: "ADDR",
    },
  },
  async run({ args }) {
    if (args.host !== undefined && !isHostname(args.host)) {
      throw new UsageError(`--host ${args.host}: not a hostname or IPv4 address; expected something like 10.0.0.5`);
    }
    const session = await openSession(args, { model: "required", secrets: "placeholders" });
    const model = session.model!;
    const rows = parsePs(await session.compose.captureOk(psArgs({ json: true, all: true })));
    const roster = await readCluster(rosterUrl(model), { timeoutMs: 2000, token: readSecret(session.paths.envFile, "CSLR_CLUSTER_TOKEN") });

    const coordinator = model.config.services.health.enabled ? undefined : new URL(model.election.url).hostname;
    const address = args.host ?? (await resolveHostAddress(model.host.address, coordinator));
    if (!address) log.warn("no external address found for this host; showing 127.0.0.1 (set host.address, or pass --host)");
    const clusterToken = readSecret(session.paths.envFile, "CSLR_CLUSTER_TOKEN");
    const report = buildStatus({ model, projectName: session.target.projectName, address: address ?? "127.0.0.1", rows, roster, clusterToken });
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report));
    // Documented exit codes: 0 a ready head, 3 no ready head, 1 the election service could not be asked.
    process.exitCode = "error" in roster ? 1 : roster.roster.head?.ready ? 0 : 3;
  },
});
