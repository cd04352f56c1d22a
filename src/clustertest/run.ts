/**
 * The check sequence of `cslr test`, with its I/O injected: probes run in the test client
 * container, the worker's container state comes from compose, the clock is passed in.
 * Waits are bounded by one deadline; nothing here sleeps except between polls.
 */
import type { Model } from "../config/model.ts";
import {
  checkClientPort,
  checkClientUnavailable,
  checkHeadPort,
  checkHealth,
  checkNoHead,
  checkRayClient,
  checkWorkerInRay,
  checkWorkerInRoster,
  headTarget,
  readFlavour,
  rosterPath,
  type CheckResult,
  type ProbeOutcome,
  type WorkerExpectation,
} from "./checks.ts";
import { httpGetProbe, rayClientProbe, rayFlavourProbe, tcpProbe } from "./probes.ts";
import type { RosterView } from "../election/roster.ts";
import { clusterTest } from "../render/cluster-test.ts";

export interface ClusterTestIo {
  /**
   * Starts the test worker. Called after the first roster read, so an entry an earlier run
   * left in the roster is known and not taken for this run's join.
   */
  startWorker(): Promise<void>;
  /** Runs argv in the test client container. */
  probe(argv: string[]): Promise<ProbeOutcome>;
  /** The test worker container's state (running, exited, ...), undefined when it does not exist. */
  workerState(): Promise<string | undefined>;
  sleep(ms: number): Promise<void>;
  now(): number;
}

export interface RunOptions {
  /** The address the test worker advertises (as rendered into its environment). */
  hostAddress: string;
  /** The election service's certificate pin; undefined when it speaks plain HTTP. */
  electionPin?: string;
  /** How long to wait for the health service and then for the worker to join. */
  timeoutMs: number;
  pollMs?: number;
  /** Called with each verdict as soon as it is known. */
  onResult?: (result: CheckResult) => void;
}

/** Polls `attempt` until it says done or the deadline passes; returns its last value. */
async function poll<T>(io: ClusterTestIo, deadline: number, pollMs: number, attempt: () => Promise<{ done: boolean; value: T }>): Promise<T> {
  for (;;) {
    const { done, value } = await attempt();
    if (done || io.now() >= deadline) return value;
    await io.sleep(pollMs);
  }
}

export function workerExpectation(model: Model, hostAddress: string): WorkerExpectation {
  const w = model.clusterTest.worker;
  return { name: clusterTest.worker, hostAddress, nodeManagerPort: w.nodeManagerPort, ports: w.ports };
}

export async function runClusterChecks(model: Model, opts: RunOptions, io: ClusterTestIo): Promise<CheckResult[]> {
  const pollMs = opts.pollMs ?? 500;
  const deadline = io.now() + opts.timeoutMs;
  const results: CheckResult[] = [];
  const record = (result: CheckResult) => {
    results.push(result);
    opts.onResult?.(result);
  };
  const alias = clusterTest.hostAlias;
  const healthEndpoint = { host: alias, port: model.config.services.health.port };
  const fetchRoster = async () =>
    checkHealth(await io.probe(httpGetProbe(healthEndpoint.host, healthEndpoint.port, rosterPath, opts.electionPin)), healthEndpoint);

  // 1. The health service, and through it who is head. A head may still be being elected.
  const health = await poll(io, deadline, pollMs, async () => {
    const value = await fetchRoster();
    return { done: value.result.status === "ok" && value.roster?.head != null, value };
  });
  record(health.result);
  const worker = workerExpectation(model, opts.hostAddress);
  const before = health.roster?.workers.find((n) => n.node === worker.name);
  await io.startWorker();

  // 2. The head's GCS port.
  const head = health.roster?.head ? headTarget(model, health.roster.head, alias) : undefined;
  if (!head) record(checkNoHead(health.roster, alias));
  else record(checkHeadPort(await io.probe(tcpProbe(head.gcs.host, head.gcs.port)), head));

  // 3. The Ray client port: ray.init with real Ray, a connection with the stand-in.
  const flavour = readFlavour(await io.probe(rayFlavourProbe()));
  if (flavour === "none") {
    record(checkClientUnavailable());
    record(checkWorkerInRoster(health.roster, worker, await io.workerState(), before));
    return results;
  }
  if (!head) {
    record({ ...checkClientUnavailable(), detail: "skipped: no head to connect to", fix: "fix the head check first" });
  }
  if (flavour === "standin") {
    if (head) record(checkClientPort(await io.probe(tcpProbe(head.client.host, head.client.port)), head));
    // 4. The worker, as the election roster lists it.
    const verdict = await poll(io, deadline, pollMs, async () => {
      const roster: RosterView | undefined = (await fetchRoster()).roster;
      const state = await io.workerState();
      const value = checkWorkerInRoster(roster, worker, state, before);
      return { done: value.status === "ok" || (state !== undefined && state !== "running"), value };
    });
    record(verdict);
    return results;
  }
  if (!head) {
    record(checkWorkerInRay(undefined, worker, await io.workerState()));
    return results;
  }
  await checkThroughRayClient(io, { deadline, pollMs }, head, worker, record);
  return results;
}

/** Real Ray: one ray.init both proves the client port and lists the nodes the head knows; then the worker among them. */
async function checkThroughRayClient(
  io: ClusterTestIo,
  { deadline, pollMs }: { deadline: number; pollMs: number },
  head: NonNullable<ReturnType<typeof headTarget>>,
  worker: WorkerExpectation,
  record: (result: CheckResult) => void,
): Promise<void> {
  const first = checkRayClient(await io.probe(rayClientProbe(head.client.host, head.client.port)), head);
  record(first.result);
  const verdict = await poll(io, deadline, pollMs, async () => {
    const report = first.report ? checkRayClient(await io.probe(rayClientProbe(head.client.host, head.client.port)), head).report : undefined;
    const state = await io.workerState();
    const value = checkWorkerInRay(report, worker, state);
    return { done: value.status === "ok" || !first.report || (state !== undefined && state !== "running"), value };
  });
  record(verdict);
}
