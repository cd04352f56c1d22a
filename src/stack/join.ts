/**
 * The use case of joining a cluster: makes this workstation a member. Asks the coordinator what
 * a member needs, checks that the coordinator reaches this host back on every port Ray will
 * use, and only then writes config.yaml, nodes.yaml and .env (0600). Any failure is one line,
 * and nothing is written.
 */
import { existsSync } from "node:fs";
import pkg from "../../package.json" with { type: "json" };
import { schemaFiles } from "../config/json-schema.ts";
import { displayPath, modelFromTexts, type ProjectPaths } from "../config/load.ts";
import { getJoinInfo, type Fetch } from "../election/client.ts";
import { pinnedFetch } from "../election/tls.ts";
import { maxProbePorts, type JoinInfo } from "../election/membership.ts";
import { CslrError, ExitCode, UsageError } from "../errors.ts";
import { writeFilesAtomically } from "../files.ts";
import { chooseHostAddressNow } from "../host/address.ts";
import { detectGpuSync } from "../host/gpu.ts";
import { clusterSource, firewallLines, memberConfig, memberEnv, memberNodes, portRanges, rayPortPlan, type PlannedPort } from "../join/plan.ts";
import { checkReachBack } from "../join/reach.ts";
import type { JoinToken } from "../join/token.ts";
import { log } from "../log.ts";
import { oneLine } from "../text.ts";
import { defaultWaitSeconds } from "../status/wait.ts";

export interface JoinRequest {
  /** The coordinator's election service. */
  url: string;
  /** The join token: the cluster token and, for an https coordinator, its certificate's pin. */
  token: JoinToken;
  /** This workstation's name in the cluster. */
  name: string;
  /** Replace an existing config.yaml and nodes.yaml. */
  force?: boolean;
  /** Start this workstation's Ray nodes afterwards and wait until they are on the roster. */
  up?: boolean;
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

export async function joinCluster(paths: ProjectPaths, request: JoinRequest): Promise<void> {
  if (process.platform !== "linux") {
    throw new CslrError(
      `several workstations need Linux hosts with Docker Engine (Ray uses host networking); this is ${process.platform}: ` +
        "use it as a client (cslr run, cslr status) or for a one-machine stack",
    );
  }
  const existing = [paths.config, paths.nodes].filter((p) => existsSync(p));
  if (existing.length > 0 && !request.force) {
    throw new CslrError(`${existing.map(displayPath).join(" and ")} already exist here; join from an empty folder, or pass --force to replace them`);
  }
  if (!request.token.pin)
    log.warn(`joining over plain HTTP (${request.url}): anyone on the network can read the cluster token and answer in the coordinator's place`);
  // Pinned: no request (and no token) reaches a server without the coordinator's certificate.
  const coordinator = request.token.pin ? pinnedFetch(request.token.pin) : fetch;
  const info = await askCoordinator(request, coordinator);
  const choice = await chooseHostAddressNow("auto", new URL(request.url).hostname, "give this host a route to the coordinator, or an address on its subnet");
  if ("problem" in choice) throw new CslrError(`cannot tell this host's address: ${choice.problem}`);
  if (choice.fallback) log.info(`this host's address: ${choice.address} (${choice.why})`);
  const address = choice.address;

  const config = memberConfig(info, { name: request.name, address });
  const nodes = memberNodes(info, request.token.pin);
  // The files are checked as `cslr generate` would before anything is written.
  const model = await modelFromTexts({ file: "config.yaml", text: config }, { file: "nodes.yaml", text: nodes }, () => detectGpuSync(), request.name);
  await assertReachedBack(request, info, address, rayPortPlan(model), coordinator);

  writeFilesAtomically([
    { path: paths.config, content: config, mode: 0o644 },
    { path: paths.nodes, content: nodes, mode: 0o644 },
    {
      path: paths.envFile,
      content: memberEnv(request.token.secret, info.ray.authToken, info.redis.gcsNamespace ? info.redis.gcsPassword : undefined),
      mode: 0o600,
    },
    ...schemaFiles(paths.dir),
  ]);
  log.success(
    `${request.name} (${address}) is a member of ${info.project}: wrote ${displayPath(paths.config)}, ${displayPath(paths.nodes)} and ${displayPath(paths.envFile)}`,
  );

  if (!request.up) {
    log.info("next: `cslr up -d --wait` starts this workstation's Ray nodes");
    return;
  }
  // The stack reads the cluster token from .env now. A join token in this process's
  // environment (CSLR_CLUSTER_TOKEN=cslr1.<pin>.<secret>) would win over .env in compose's
  // interpolation and hand the nodes a wrong key.
  delete process.env.CSLR_CLUSTER_TOKEN;
  const [{ sessionAt }, { upStack }] = await Promise.all([import("./session.ts"), import("./up.ts")]);
  const session = await sessionAt(paths, { generate: true });
  await upStack(session, { services: [], waitSeconds: defaultWaitSeconds });
}

/** What a member needs, from the coordinator; refused tokens, other versions and missing Ray tokens are one line each. */
async function askCoordinator({ url, token, name }: JoinRequest, coordinator: Fetch): Promise<JoinInfo> {
  const answer = await getJoinInfo(url, token.secret, { fetch: coordinator });
  if (!answer.ok) {
    if (answer.status === 401) throw new CslrError(`the coordinator at ${url} refused the token: use the CSLR_CLUSTER_TOKEN from its .env`);
    if (answer.status === 0)
      throw new CslrError(`cannot reach the coordinator: ${oneLine(answer.reason, 300)} (is its stack up, and its port open to this host?)`);
    // An answer that is not what the protocol allows is bad input: refused with the field, nothing written.
    if (answer.status === 200) {
      throw new CslrError(`the coordinator at ${url} sent join information cslr does not accept (${answer.reason}); nothing was written`, ExitCode.usage);
    }
    throw new CslrError(`the coordinator at ${url} cannot take members: ${answer.reason}`);
  }
  const info = answer.value;
  if (info.cslrVersion !== pkg.version) {
    throw new CslrError(`the coordinator runs cslr ${info.cslrVersion} and this is cslr ${pkg.version}: use the same version on every workstation`);
  }
  if (info.ray.auth === "token" && !info.ray.authToken) {
    throw new CslrError("the coordinator uses Ray's token authentication but did not hand out the token: restart its health service (cslr up there)");
  }
  if (info.redis.gcsNamespace && !info.redis.gcsPassword) {
    throw new CslrError("the coordinator keeps Ray's GCS in its Redis but did not hand out the password: restart its health service (cslr up there)");
  }
  if (token.pin && !info.coordinator.url.startsWith("https:")) {
    throw new CslrError(
      `the coordinator at ${url} gives its URL as ${info.coordinator.url}, which is not HTTPS; refusing to hand this member a plain-HTTP election service`,
      ExitCode.usage,
    );
  }
  if (name === info.coordinator.name) throw new UsageError(`--name: ${name} is the coordinator's name; give this workstation its own (--name ws2)`);
  return info;
}

/** The coordinator must reach this host on Ray's ports: busy ports and closed ones (with the firewall lines) fail. */
async function assertReachedBack(request: JoinRequest, info: JoinInfo, address: string, plan: PlannedPort[], coordinator: Fetch): Promise<void> {
  const probed = portsToProbe(plan);
  log.start(`checking that ${info.coordinator.address} reaches ${address} on ${probed.length} ports`);
  const reach = await checkReachBack(request.url, request.token.secret, { name: request.name, address }, probed, coordinator);
  if (!reach.ok) throw new CslrError(`the reach-back check failed: ${oneLine(reach.reason, 300)}`);
  const { busy, closed } = reach.result;
  if (busy.length > 0) {
    const ranges = portRanges(busy.map((p) => p.port)).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`));
    throw new CslrError(
      `ports ${ranges.join(", ")} are in use on this host: stop what holds them, or join with another services.ray.host_ports.base (edit it after joining)`,
    );
  }
  if (closed.length === 0) return;
  const lines = firewallLines(
    closed.map((p) => p.port),
    clusterSource(info.coordinator.address),
  );
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
