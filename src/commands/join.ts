/**
 * `cslr join URL --token TOKEN [--up]`: makes this workstation a member of a cluster (the use
 * case is src/stack/join.ts; this file checks the arguments).
 */
import { hostname } from "node:os";
import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { resolveProject } from "../config/load.ts";
import { hostNameOf } from "../config/normalise.ts";
import { UsageError } from "../errors.ts";
import { joinCluster } from "../stack/join.ts";

export default defineCommand({
  meta: { name: "join", description: "Make this workstation a member of a cluster: cslr join URL --token TOKEN [--up]" },
  args: {
    ...commonArgs,
    url: { type: "positional", required: false, description: "The coordinator's election service, as `cslr status` prints it on the coordinator", valueHint: "URL" },
    token: { type: "string", description: "The cluster's token (default: $CSLR_CLUSTER_TOKEN)", valueHint: "TOKEN" },
    name: { type: "string", description: "This workstation's name in the cluster (default: its short hostname)", valueHint: "NAME" },
    up: { type: "boolean", description: "Start this workstation's Ray nodes and wait until they are on the roster" },
    force: { type: "boolean", description: "Replace an existing config.yaml and nodes.yaml" },
    client: { type: "boolean", description: "Use this machine as a client (cslr run, cslr jobs from any folder): writes only ~/.config/cslr/client.json" },
  },
  async run({ args }) {
    const url = args.url;
    if (!url || !/^https?:\/\/[^\s/]+/.test(url) || !URL.canParse(url)) {
      throw new UsageError(
        "cslr join: expected the coordinator's URL, like `cslr join http://10.0.0.5:8888 --token TOKEN` (cslr status prints the line on the coordinator)",
      );
    }
    const token = args.token ?? process.env.CSLR_CLUSTER_TOKEN;
    if (!token) throw new UsageError("cslr join: expected --token TOKEN (the CSLR_CLUSTER_TOKEN in the coordinator's .env), or CSLR_CLUSTER_TOKEN set");
    if (args.client) {
      if (args.up || args.name !== undefined || args.force) throw new UsageError("cslr join --client: --up, --name and --force are for members; a client writes only its profile");
      const { joinAsClient } = await import("../join/client.ts");
      await joinAsClient(url, token);
      return;
    }
    const name = args.name ?? hostNameOf(hostname());
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) throw new UsageError(`--name ${JSON.stringify(name)}: expected lowercase letters, digits and '-', like ws2`);
    const paths = resolveProject(args, process.cwd(), { search: false });
    await joinCluster(paths, { url, token, name, force: args.force, up: args.up });
  },
});
