/**
 * `cslr join URL --token - [--up]`: makes this workstation a member of a cluster (the use
 * case is src/stack/join.ts; this file checks the arguments and reads the join token).
 */
import { hostname } from "node:os";
import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { resolveProject } from "../config/load.ts";
import { hostNameOf } from "../config/normalise.ts";
import { parseHttpUrl } from "../config/net.ts";
import { UsageError } from "../errors.ts";
import { parseJoinToken, type JoinToken } from "../join/token.ts";
import { joinCluster } from "../stack/join.ts";

/**
 * The join token from standard input (`--token -`), the flag, or CSLR_CLUSTER_TOKEN. The flag
 * stays in /proc/PID/cmdline and shell history while join runs: the join line says `-`.
 */
async function tokenFrom(flag: string | undefined): Promise<string> {
  if (flag === "-") {
    if (process.stdin.isTTY) process.stderr.write("Join token (cslr1.…, from `cslr status` on the coordinator): ");
    for await (const line of console) return line;
    throw new UsageError("cslr join --token -: standard input ended before a join token; paste it, or pipe it in");
  }
  const token = flag ?? process.env.CSLR_CLUSTER_TOKEN;
  if (!token)
    throw new UsageError(
      "cslr join: expected --token - (then paste the join token), or CSLR_CLUSTER_TOKEN set; cslr status prints the token on the coordinator",
    );
  return token;
}

/** The token, checked against the URL: a pinned token goes with https only, and https needs a pin. */
async function joinTokenFor(url: string, scheme: "http" | "https", flag: string | undefined): Promise<JoinToken> {
  const token = parseJoinToken(await tokenFrom(flag));
  if ("error" in token) throw new UsageError(`cslr join: ${token.error}`);
  if (scheme === "https" && !token.pin) {
    throw new UsageError(
      "cslr join: the coordinator speaks HTTPS and this token carries no certificate pin; expected the join token cslr status prints there (cslr1.<pin>.<secret>)",
    );
  }
  if (scheme === "http" && token.pin)
    throw new UsageError(`cslr join: the join token pins a certificate, so the coordinator speaks HTTPS; expected https://${url.slice("http://".length)}`);
  return token;
}

export default defineCommand({
  meta: { name: "join", description: "Make this workstation a member of a cluster: cslr join URL --token - [--up]" },
  args: {
    ...commonArgs,
    url: {
      type: "positional",
      required: false,
      description: "The coordinator's election service, as `cslr status` prints it on the coordinator",
      valueHint: "URL",
    },
    token: {
      type: "string",
      description:
        "The join token; `-` reads it from standard input (default: $CSLR_CLUSTER_TOKEN). On the command line it is visible to every user of this host",
      valueHint: "TOKEN|-",
    },
    name: { type: "string", description: "This workstation's name in the cluster (default: its short hostname)", valueHint: "NAME" },
    up: { type: "boolean", description: "Start this workstation's Ray nodes and wait until they are ALIVE in Ray's own node list" },
    force: { type: "boolean", description: "Replace an existing config.yaml and nodes.yaml" },
    client: { type: "boolean", description: "Use this machine as a client (cslr run, cslr jobs from any folder): writes only ~/.config/cslr/client.json" },
  },
  async run({ args }) {
    const url = args.url;
    const parsedUrl = url === undefined ? undefined : parseHttpUrl(url);
    if (!url || !parsedUrl) {
      throw new UsageError(
        "cslr join: expected the coordinator's URL, like `cslr join https://10.0.0.5:8888 --token -` (cslr status prints the line on the coordinator)",
      );
    }
    const token = await joinTokenFor(url, parsedUrl.scheme, args.token);
    if (args.client) {
      if (args.up || args.name !== undefined || args.force)
        throw new UsageError("cslr join --client: --up, --name and --force are for members; a client writes only its profile");
      const { joinAsClient } = await import("../join/client.ts");
      await joinAsClient(url, token);
      return;
    }
    const name = args.name ?? hostNameOf(hostname());
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(name))
      throw new UsageError(`--name ${JSON.stringify(name)}: expected lowercase letters, digits and '-', like ws2`);
    const paths = resolveProject(args, process.cwd(), { search: false });
    await joinCluster(paths, { url, token, name, force: args.force, up: args.up });
  },
});
