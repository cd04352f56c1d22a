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
import { CslrError, UsageError } from "../errors.ts";
import { detectGpuSync } from "../host/gpu.ts";
import { chooseHostAddressNow } from "../host/address.ts";
import { clusterSource, firewallLines, memberConfig, memberEnv, memberNodes, portRanges, rayPortPlan, type PlannedPort } from "../join/plan.ts";
import { checkReachBack } from "../join/reach.ts";
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

/** Worker ports are many: past the probe's limit, check Ray's own ports and a spread of the rest. */
export function portsToProbe(plan: PlannedPort[]): PlannedPort[] {
  if (plan.length <= maxProbePorts) return plan;
  const fixed = plan.filter((p) => p.what !== "worker processes");
  const workers = plan.filter((p) => p.what === "worker processes");
  const room = Math.max(0, maxProbePorts - fixed.length);
  const step = Math.max(1, Math.ceil(workers.length / Math.max(1, room)));
  return [...fixed, ...workers.filter((_, i) => i % step === 0 || i === workers.length - 1)].slice(0, maxProbePorts);
}

function coordinatorUrlArg(url: string | undefined): string {
  if (!url || !/^https?:\/\/[^\s/]+/.test(url) || !URL.canParse(url)) {
    throw new UsageError("cslr join: expected the coordinator's URL, like `cslr join http://10.0.0.5:8888 --token TOKEN` (cslr status prints the line on the coordinator)");
  }
  return url;
}

function clusterTokenArg(flag: string | undefined): string {
  const token = flag ?? process.env.CSLR_CLUSTER_TOKEN;
  if (!token) throw new UsageError("cslr join: expected --token TOKEN (the CSLR_CLUSTER_TOKEN in the coordinator's .env), or CSLR_CLUSTER_TOKEN set");
  return token;
}

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
    if (args.client) {
      if (args.up || args.name !== undefined || args.force) throw new UsageError("cslr join --client: --up, --name and --force are for members; a client writes only its profile");
      const { joinAsClient } = await import("../join/client.ts");
      await joinAsClient(coordinatorUrlArg(args.url), clusterTokenArg(args.token));
      return;
    }
    if (process.platform !== "linux") {
      throw new CslrError(`several workstations need Linux hosts with Docker Engine (Ray uses host networking); this is ${process.platform}: use it as a client (cslr run, cslr status) or for a one-machine stack`);
    }
    const url = coordinatorUrlArg(args.url);
    const token = clusterTokenArg(args.token);
    const name = args.name ?? hostNameOf(hostname());
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) throw new UsageError(`--name ${JSON.stringify(name)}: expected lowercase letters, digits and '-', like ws2`);

    const paths = resolveProject(args, process.cwd(), { search: false });
    const existing = [paths.config, paths.nodes].filter((p) => existsSync(p));
    if (existing.length > 0 && !args.force) {
      throw new CslrError(`${existing.map(displayPath).join(" and ")} already exist here; join from an empty folder, or pass --force to replace them`);
    }

    const answer = await getJoinInfo(url, token);
    if (!answer.ok) {
      if (answer.status === 401) throw new CslrError(`the coordinator at ${url} refused the token: use the CSLR_CLUSTER_TOKEN from its .env`);
      if (answer.status === 0) throw new CslrError(`cannot reach the coordinator: ${answer.reason} (is its stack up, and its port open to this host?)`);
      throw new CslrError(`the coordinator at ${url} cannot take members: ${answer.reason}`);
    }
    const info = answer.value;
    if (info.cslrVersion !== pkg.version) {
      throw new CslrError(`the coordinator runs cslr ${info.cslrVersion} and this is cslr ${pkg.version}: use the same version on every workstation`);
    }
    if (info.ray.auth === "token" && !info.ray.authToken) {
      throw new CslrError("the coordinator uses Ray's token authentication but did not hand out the token: restart its health service (cslr up there)");
    }
    if (name === info.coordinator.name) throw new UsageError(`--name: ${name} is the coordinator's name; give this workstation its own (--name ws2)`);

    const choice = await chooseHostAddressNow("auto", new URL(url).hostname, "give this host a route to the coordinator, or an address on its subnet");
    if ("problem" in choice) throw new CslrError(`cannot tell this host's address: ${choice.problem}`);
    if (choice.fallback) log.info(`this host's address: ${choice.address} (${choice.why})`);
    const address = choice.address;

    const config = memberConfig(info, { name, address });
    const nodes = memberNodes(info);
    // The files are checked as `cslr generate` would before anything is written.
    const model = await modelFromTexts({ file: "config.yaml", text: config }, { file: "nodes.yaml", text: nodes }, () => detectGpuSync(), name);
    const plan = rayPortPlan(model);
    const probed = portsToProbe(plan);
    log.start(`checking that ${info.coordinator.address} reaches ${address} on ${probed.length} ports`);
    const reach = await checkReachBack(url, token, { name, address }, probed);
    if (!reach.ok) throw new CslrError(`the reach-back check failed: ${reach.reason}`);
    const { busy, closed } = reach.result;
    if (busy.length > 0) {
      throw new CslrError(`ports ${portRanges(busy.map((p) => p.port)).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(", ")} are in use on this host: stop what holds them, or join with another services.ray.host_ports.base (edit it after joining)`);
    }
    if (closed.length > 0) {
      const lines = firewallLines(closed.map((p) => p.port), clusterSource(info.coordinator.address));
      process.stderr.write(
        [
          `The coordinator (${info.coordinator.address}) cannot reach this host (${address}) on ${closed.length} port(s): ${closed[0]!.error}.`,
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
      { path: paths.envFile, content: memberEnv(token, info.ray.authToken), mode: 0o600 },
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
