/**
 * `cslr join URL --token TOKEN [--up]`: makes this workstation a member of a cluster. Asks the
 * coordinator what a member needs, checks that the coordinator reaches this host back on every
 * port Ray will use, and only then writes config.yaml, nodes.yaml and .env (0600). Any failure
 * is one line, and nothing is written.
 */
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { defineCommand } from "citty";
import pkg from "../../package.json" with { type: "json" };
import { commonArgs } from "../args.ts";
import { jsonSchemaOf } from "../config/json-schema.ts";
import { displayPath, modelFromTexts, resolveProject } from "../config/load.ts";
import { hostNameOf } from "../config/normalise.ts";
import { getJoinInfo } from "../election/client.ts";
import { CslrError, ExitCode, UsageError } from "../errors.ts";
import { oneLine } from "../text.ts";
import { detectGpuSync } from "../host/gpu.ts";
import { routeSourceAddress } from "../host/address.ts";
import { clusterSource, firewallLines, memberConfig, memberEnv, memberNodes, portRanges, rayPortPlan, type PlannedPort } from "../join/plan.ts";
import { checkReachBack } from "../join/reach.ts";
import { parseJoinToken } from "../join/token.ts";
import { parseHttpUrl } from "../config/net.ts";
import { pinnedFetch } from "../election/tls.ts";
import { log } from "../log.ts";
import { maxProbePorts } from "../election/membership.ts";

/** Writes each file beside its final name and renames it: all or nothing for what is written. */
function writeAll(files: { path: string; content: string; mode: number }[]): void {
  const temps = files.map((f) => {
    mkdirSync(dirname(f.path), { recursive: true });
    const temp = `${f.path}.${process.pid}.tmp`;
    writeFileSync(temp, f.content, { mode: f.mode });
    chmodSync(temp, f.mode);
    return { temp, final: f.path };
  });
  for (const { temp, final } of temps) renameSync(temp, final);
}

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
  if (!token) throw new UsageError("cslr join: expected --token - (then paste the join token), or CSLR_CLUSTER_TOKEN set; cslr status prints the token on the coordinator");
  return token;
}

/** Worker ports are many: past the probe's limit, check Ray's own ports and a spread of the rest. */
export function portsToProbe(plan: PlannedPort[]): PlannedPort[] {
  if (plan.length <= maxProbePorts) return plan;
  const fixed = plan.filter((p) => p.what !== "worker processes");
  const workers = plan.filter((p) => p.what === "worker processes");
  const room = Math.max(0, maxProbePorts - fixed.length);
  const step = Math.max(1, Math.ceil(workers.length / Math.max(1, room)));
  return [...fixed, ...workers.filter((_, i) => i % step === 0 || i === workers.length - 1)].slice(0, maxProbePorts);
}

export default defineCommand({
  meta: { name: "join", description: "Make this workstation a member of a cluster: cslr join URL --token TOKEN [--up]" },
  args: {
    ...commonArgs,
    url: { type: "positional", required: false, description: "The coordinator's election service, as `cslr status` prints it on the coordinator", valueHint: "URL" },
    token: { type: "string", description: "The join token; `-` reads it from standard input (default: $CSLR_CLUSTER_TOKEN). On the command line it is visible to every user of this host", valueHint: "TOKEN|-" },
    name: { type: "string", description: "This workstation's name in the cluster (default: its short hostname)", valueHint: "NAME" },
    up: { type: "boolean", description: "Start this workstation's Ray nodes and wait until they are on the roster" },
    force: { type: "boolean", description: "Replace an existing config.yaml and nodes.yaml" },
  },
  async run({ args }) {
    if (process.platform !== "linux") {
      throw new CslrError(`several workstations need Linux hosts with Docker Engine (Ray uses host networking); this is ${process.platform}: use it as a client (cslr run, cslr status) or for a one-machine stack`);
    }
    const url = args.url;
    const parsedUrl = url === undefined ? undefined : parseHttpUrl(url);
    if (!url || !parsedUrl) {
      throw new UsageError("cslr join: expected the coordinator's URL, like `cslr join https://10.0.0.5:8888 --token -` (cslr status prints the line on the coordinator)");
    }
    const token = parseJoinToken(await tokenFrom(args.token));
    if ("error" in token) throw new UsageError(`cslr join: ${token.error}`);
    if (parsedUrl.scheme === "https" && !token.pin) throw new UsageError("cslr join: the coordinator speaks HTTPS and this token carries no certificate pin; expected the join token cslr status prints there (cslr1.<pin>.<secret>)");
    if (parsedUrl.scheme === "http" && token.pin) throw new UsageError(`cslr join: the join token pins a certificate, so the coordinator speaks HTTPS; expected https://${url.slice("http://".length)}`);
    if (!token.pin) log.warn(`joining over plain HTTP (${url}): anyone on the network can read the cluster token and answer in the coordinator's place`);
    // Pinned: no request (and no token) reaches a server without the coordinator's certificate.
    const coordinatorFetch = token.pin ? pinnedFetch(token.pin) : fetch;
    const name = args.name ?? hostNameOf(hostname());
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) throw new UsageError(`--name ${JSON.stringify(name)}: expected lowercase letters, digits and '-', like ws2`);

    const paths = resolveProject(args, process.cwd(), { search: false });
    const existing = [paths.config, paths.nodes].filter((p) => existsSync(p));
    if (existing.length > 0 && !args.force) {
      throw new CslrError(`${existing.map(displayPath).join(" and ")} already exist here; join from an empty folder, or pass --force to replace them`);
    }

    const answer = await getJoinInfo(url, token.secret, { fetch: coordinatorFetch });
    if (!answer.ok) {
      if (answer.status === 401) throw new CslrError(`the coordinator at ${url} refused the token: use the CSLR_CLUSTER_TOKEN from its .env`);
      if (answer.status === 0) throw new CslrError(`cannot reach the coordinator: ${oneLine(answer.reason, 300)} (is its stack up, and its port open to this host?)`);
      // An answer that is not what the protocol allows is bad input: refused with the field, nothing written.
      if (answer.status === 200) throw new CslrError(`the coordinator at ${url} sent join information cslr does not accept (${answer.reason}); nothing was written`, ExitCode.usage);
      throw new CslrError(`the coordinator at ${url} cannot take members: ${answer.reason}`);
    }
    const info = answer.value;
    if (info.cslrVersion !== pkg.version) {
      throw new CslrError(`the coordinator runs cslr ${info.cslrVersion} and this is cslr ${pkg.version}: use the same version on every workstation`);
    }
    if (info.ray.auth === "token" && !info.ray.authToken) {
      throw new CslrError("the coordinator uses Ray's token authentication but did not hand out the token: restart its health service (cslr up there)");
    }
    if (token.pin && !info.coordinator.url.startsWith("https:")) {
      throw new CslrError(`the coordinator at ${url} gives its URL as ${info.coordinator.url}, which is not HTTPS; refusing to hand this member a plain-HTTP election service`, ExitCode.usage);
    }
    if (name === info.coordinator.name) throw new UsageError(`--name: ${name} is the coordinator's name; give this workstation its own (--name ws2)`);

    const address = await routeSourceAddress(new URL(url).hostname);
    if (!address) throw new CslrError(`this host has no route to ${new URL(url).hostname}: check its network`);

    const config = memberConfig(info, { name, address });
    const nodes = memberNodes(info, token.pin);
    // The files are checked as `cslr generate` would before anything is written.
    const model = await modelFromTexts({ file: "config.yaml", text: config }, { file: "nodes.yaml", text: nodes }, () => detectGpuSync(), name);
    const plan = rayPortPlan(model);
    const probed = portsToProbe(plan);
    log.start(`checking that ${info.coordinator.address} reaches ${address} on ${probed.length} ports`);
    const reach = await checkReachBack(url, token.secret, { name, address }, probed, coordinatorFetch);
    if (!reach.ok) throw new CslrError(`the reach-back check failed: ${oneLine(reach.reason, 300)}`);
    const { busy, closed } = reach.result;
    if (busy.length > 0) {
      throw new CslrError(`ports ${portRanges(busy.map((p) => p.port)).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(", ")} are in use on this host: stop what holds them, or join with another services.ray.host_ports.base (edit it after joining)`);
    }
    if (closed.length > 0) {
      const lines = firewallLines(closed.map((p) => p.port), clusterSource(info.coordinator.address));
      process.stderr.write(
        [
          `The coordinator (${info.coordinator.address}) cannot reach this host (${address}) on ${closed.length} port(s): ${oneLine(closed[0]!.error)}.`,
          "Open them to the cluster's network, then run the same `cslr join` again. With ufw:",
          ...lines.ufw.map((l) => `  ${l}`),
          "With firewalld:",
          ...lines.firewalld.map((l) => `  ${l}`),
          "",
        ].join("\n"),
      );
      throw new CslrError(`reach-back check failed: ${closed.length} port(s) closed to the coordinator; nothing was written`);
    }

    writeAll([
      { path: paths.config, content: config, mode: 0o644 },
      { path: paths.nodes, content: nodes, mode: 0o644 },
      { path: paths.envFile, content: memberEnv(token.secret, info.ray.authToken), mode: 0o600 },
      { path: join(paths.dir, "config.schema.json"), content: `${JSON.stringify(jsonSchemaOf("config"), null, 2)}\n`, mode: 0o644 },
      { path: join(paths.dir, "nodes.schema.json"), content: `${JSON.stringify(jsonSchemaOf("nodes"), null, 2)}\n`, mode: 0o644 },
    ]);
    log.success(`${name} (${address}) is a member of ${info.project}: wrote ${displayPath(paths.config)}, ${displayPath(paths.nodes)} and ${displayPath(paths.envFile)}`);

    if (!args.up) {
      log.info("next: `cslr up -d --wait` starts this workstation's Ray nodes");
      return;
    }
    const [{ sessionAt }, { upStack, defaultWaitSeconds }] = await Promise.all([import("../compose/session.ts"), import("../compose/up.ts")]);
    const session = await sessionAt(paths, { generate: true });
    await upStack(session, { services: [], waitSeconds: defaultWaitSeconds });
  },
});
