/**
 * The use case of bringing a stack up: the port check before compose, `docker compose up`, and
 * with --wait the phases until the cluster is ready, then the addresses to use. Shared by
 * `cslr up` and `cslr join --up`.
 */
import { logsArgs, psArgs, upArgs } from "../compose/argv.ts";
import { assertSubnetsFree, engineOf } from "../compose/networks.ts";
import { busyPublishedPorts, runningServices } from "../compose/ports.ts";
import { parsePs } from "../compose/ps.ts";
import { portConflictMessage } from "../compose/published.ts";
import { Compose } from "../compose/runner.ts";
import { checkServices, composeTarget, readComposeFile, serviceNames } from "../compose/target.ts";
import { recordApplied } from "./generation.ts";
import type { Session } from "./session.ts";
import { existsSync } from "node:fs";
import { pruneUnusedCopies } from "../host/binary-store.ts";
import type { Model } from "../config/model.ts";
import { readSecret } from "../config/dotenv.ts";
import { parseDurationMs } from "../config/units.ts";
import { readCluster } from "../election/client.ts";
import { electionAccess, type ElectionAccess } from "../election/access.ts";
import { formatJoinToken, joinInstructions } from "../join/token.ts";
import { CslrError, UsageError } from "../errors.ts";
import { isQuiet } from "../log.ts";
import { hostAddressOf } from "../config/host-address.ts";
import { coordinatorUrl, headPortsOf } from "../config/urls.ts";
import { describePhase, type RayNodeSeen } from "../status/phase.ts";
import { stackFactsOfModel } from "../status/stack.ts";
import { endpoints } from "../status/view.ts";
import { culpritService, defaultWaitSeconds, progressPrinter, waitExpectation, waitForCluster } from "../status/wait.ts";

export interface UpOptions {
  services: string[];
  detach?: boolean;
  build?: boolean;
  /** Seconds to wait for the cluster to be ready; undefined does not wait. */
  waitSeconds?: number;
  dryRun?: boolean;
}

/** Checks the services and the ports, runs compose up, and waits when asked; throws what went wrong. */
export async function upStack(session: Session, options: UpOptions): Promise<void> {
  checkServices(session.doc, session.target.composeFile, options.services);
  const starting = options.services.length > 0 ? options.services : serviceNames(session.doc);
  if (!options.dryRun) {
    await session.compose.ensureEngine();
    await refuseRenameWhileRunning(session);
    await assertSubnetsFree(session.paths, session.doc, session.target.projectName, engineOf(session.compose.tool));
    const busy = await busyPublishedPorts(session.doc, await runningServices(session.compose), session.model, starting);
    if (busy.length > 0) throw new CslrError(portConflictMessage(busy));
  }
  // --remove-orphans: a service the config no longer enables (Redis turned off) goes away, as
  // the config says, instead of running on unmanaged.
  await session.compose.run(
    upArgs({ detach: options.detach || options.waitSeconds !== undefined, build: options.build, removeOrphans: true, services: options.services }),
  );
  if (options.dryRun) return;
  // Compose accepted this generation: it is what runs now.
  if (session.target.composeFile === session.paths.composeFile) recordApplied(session.paths);
  if (session.binary) await pruneUnusedCopies(session.binary).catch(() => []);
  if (options.waitSeconds !== undefined) await waitUntilReady(session, starting, options.waitSeconds);
}

/**
 * A changed project.name while the old project's containers run: compose would start a second
 * stack beside the first (their ports collide) and `down` would no longer reach the old one.
 */
async function refuseRenameWhileRunning(session: Session): Promise<void> {
  const { paths, target } = session;
  if (target.composeFile !== paths.composeFile || !existsSync(paths.appliedComposeFile)) return;
  const applied = readComposeFile(paths.appliedComposeFile).projectName;
  if (applied === target.projectName) return;
  const old = new Compose(session.compose.tool, composeTarget(paths, applied, paths.appliedComposeFile));
  if ((await runningServices(old)).size === 0) return;
  throw new CslrError(
    `project.name changed from ${applied} to ${target.projectName} while ${applied} runs: stop it first with \`cslr down\` (it acts on ${applied}), then \`cslr up\``,
  );
}

/** `--wait` with an optional `--wait-timeout` (docker compose's names); the timeout alone implies nothing. */
export function waitDeadline(wait: boolean | undefined, timeout: string | undefined): number | undefined {
  if (timeout !== undefined && !wait) throw new UsageError("--wait-timeout only applies with --wait; expected `cslr up --wait --wait-timeout 120`");
  if (!wait) return undefined;
  if (timeout === undefined) return defaultWaitSeconds;
  const ms = parseDurationMs(timeout);
  if (ms === undefined) throw new UsageError(`--wait-timeout ${JSON.stringify(timeout)}: expected a duration like 120, 120s or 5m`);
  return ms / 1000;
}

async function waitUntilReady(session: Session, services: string[], seconds: number): Promise<void> {
  const { compose, model } = session;
  const expect = waitExpectation(services, model);
  // A missing certificate is the roster's problem to report: the containers' own state still is.
  let access: ElectionAccess | undefined;
  let noAccess = "no election service configured";
  try {
    access = model ? electionAccess(model, session.paths) : undefined;
  } catch (error) {
    noAccess = (error as Error).message;
  }
  const token = readSecret(session.paths.envFile, "CSLR_CLUSTER_TOKEN");
  const printer = progressPrinter(process.stderr, { quiet: isQuiet() });
  const { phase, timedOut } = await waitForCluster(expect, seconds, {
    ps: async () => parsePs(await compose.captureOk(psArgs({ json: true, all: true }))),
    roster: () => (access ? readCluster(access.url, { timeoutMs: 2000, token, fetch: access.fetch }) : Promise.resolve({ error: noAccess })),
    jobsApi: model ? (head) => jobsApiProblem(model, session.paths, head) : undefined,
    rayNodes: model ? (head) => rayNodesSeen(model, session.paths, head) : undefined,
    now: () => Date.now(),
    sleep: (ms) => Bun.sleep(ms),
    progress: (_phase, text) => printer.show(text),
  });
  printer.done();
  if (phase.kind === "ready") {
    // The addresses are information: `cslr status` shows them again.
    if (model && access && !isQuiet()) await printAddresses(model, access, token);
    return;
  }
  const why = timedOut ? `not ready after ${seconds}s: ${describePhase(phase)}` : describePhase(phase);
  const culprit = culpritService(phase, expect, model);
  if (culprit) {
    const logs = await compose.capture(logsArgs({ tail: 30, noColor: true, services: [culprit] }));
    process.stderr.write(`--- last log lines of ${culprit} ---\n${logs.stdout}${logs.stderr}--- end of ${culprit} logs ---\n`);
  }
  throw new CslrError(why);
}

/**
 * Why the elected head's Jobs API does not take a job yet (undefined: it answers GET
 * /api/version, with Ray's token when the cluster uses one): what `cslr run` will call first.
 * A head cslr does not know the ports of (a fixed head_address's own name) is not checked.
 */
async function jobsApiProblem(model: Model, paths: Session["paths"], head: string): Promise<string | undefined> {
  if (!headPortsOf(model, head)) return undefined;
  try {
    await (await headClient(model, paths)).version(AbortSignal.timeout(3000));
    return undefined;
  } catch (error) {
    return firstLine(error);
  }
}

/**
 * The nodes in the elected head's own node list (the dashboard's `/nodes?view=summary`, what
 * Ray's dashboard shows), or why it could not be read. A dashboard that answers 404 there is
 * not Ray 2.60's and keeps no such list: undefined, and the roster decides as before.
 */
async function rayNodesSeen(model: Model, paths: Session["paths"], head: string): Promise<RayNodeSeen[] | string | undefined> {
  if (!headPortsOf(model, head)) return undefined;
  const [{ nodeStats, nodeSummarySchema }, { JobsApiError }] = await Promise.all([import("../page/ray-nodes.ts"), import("../jobs/client.ts")]);
  try {
    const summary = await (await headClient(model, paths)).nodeSummary(nodeSummarySchema, AbortSignal.timeout(5000));
    return nodeStats(summary).map((n) => ({ ip: n.ip, hostname: n.hostname, alive: n.alive }));
  } catch (error) {
    if (error instanceof JobsApiError && error.status === 404) return undefined;
    return firstLine(error);
  }
}

/** A Jobs API client for the elected head, as `cslr run` in this project would make it. */
async function headClient(model: Model, paths: Session["paths"]) {
  const [{ modelTarget }, { clientFor }] = await Promise.all([import("../jobs/project-target.ts"), import("../jobs/cli-io.ts")]);
  return clientFor(await modelTarget(model, paths), "wait");
}

function firstLine(error: unknown): string {
  return (error as Error).message.split("\n")[0]!.slice(0, 200);
}

/** The URLs to use, with the Ray ones taken from the elected head, and the line that adds a workstation. */
async function printAddresses(model: Model, access: ElectionAccess, token: string | undefined) {
  const address = await hostAddressOf(model);
  const roster = await readCluster(access.url, { timeoutMs: 2000, token, fetch: access.fetch });
  const head = "roster" in roster ? roster.roster.head : null;
  const urls = endpoints(stackFactsOfModel(model, access.pin), address, head);
  const lines = [
    urls.rayDashboard && `  Ray dashboard  ${urls.rayDashboard}`,
    urls.rayClient && `  Ray client     ${urls.rayClient}`,
    urls.mlflow && `  MLflow UI      ${urls.mlflow}`,
    urls.marimo && `  Marimo         ${urls.marimo}`,
    urls.redis && `  Redis          ${urls.redis}`,
  ].filter(Boolean);
  const join = coordinatorUrl(model, address);
  if (model.network.mode === "host" && join && token) lines.push("", ...joinInstructions(join, formatJoinToken({ secret: token, pin: access.pin })));
  if (lines.length > 0) process.stderr.write(`${lines.join("\n")}\n`);
}
