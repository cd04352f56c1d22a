/**
 * Pure: probe outputs → one verdict per check, each with what to fix when it fails.
 * The order is the order a user should fix things in: health, head port, client, worker.
 */
import type { Model } from "../config/model.ts";
import { parseHostPort } from "../config/net.ts";
import type { Check } from "../checks.ts";
import { parseClusterViewText, type RosterMember, type RosterView } from "../election/roster.ts";
import { parseHttpResponse } from "./http.ts";

export type CheckId = "health" | "head-port" | "client" | "worker";

/** A cluster-test check: the shared Check, with one of the four ids. */
export type CheckResult = Check & { id: CheckId };

export interface ProbeOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

// ---------------------------------------------------------------- roster

/** The path the test client reads the roster from (parsed by election/roster.ts). */
export const rosterPath = "/v1/cluster";

// ---------------------------------------------------------------- targets

export interface Endpoint {
  host: string;
  port: number;
}

export interface HeadTarget {
  node: string;
  /** The head's GCS port and its Ray client port, as the test client reaches them. */
  gcs: Endpoint;
  client: Endpoint;
  /** True when the head is a service of this host's stack (reached through host-gateway). */
  local: boolean;
}

/**
 * Where the test client finds the elected head. A head of this stack is reached through the
 * host's published ports; a head elsewhere at the address it registered with, and its client
 * port is assumed to be the CPU node's configured one (every host runs the same config).
 */
export function headTarget(model: Model, head: { node: string; address: string }, hostAlias: string): HeadTarget | undefined {
  const local = model.rayNodes.find((n) => n.name === head.node && n.ports);
  if (local?.ports) {
    return {
      node: head.node,
      gcs: { host: hostAlias, port: local.ports.head },
      client: { host: hostAlias, port: local.ports.client },
      local: true,
    };
  }
  const remote = parseHostPort(head.address);
  if (!remote) return undefined;
  return {
    node: head.node,
    gcs: remote,
    client: { host: remote.host, port: model.config.services.ray.cpu.client_port },
    local: false,
  };
}

const at = (e: Endpoint) => `${e.host}:${e.port}`;

/** The last line of a probe's output; of bash's "cslr-probe: line 1: /dev/tcp/h/p: Connection refused", the reason. */
function firstLine(text: string): string {
  const line = text.trim().split("\n").filter(Boolean).at(-1)?.trim() ?? "";
  return line.includes("/dev/tcp/") ? (line.split(": ").at(-1) ?? line) : line;
}

// ---------------------------------------------------------------- checks

export function checkHealth(outcome: ProbeOutcome, target: Endpoint): { result: CheckResult; roster?: RosterView } {
  const title = `health service answers at ${at(target)} from the test network`;
  const fix = `start the stack (\`cslr up -d\`) and check that services.health.port (${target.port}) is published and not blocked by the host firewall`;
  if (outcome.code !== 0 && outcome.stdout === "") {
    return { result: { id: "health", status: "fail", name: title, detail: `no connection (${firstLine(outcome.stderr) || `exit ${outcome.code}`})`, fix } };
  }
  const response = parseHttpResponse(outcome.stdout);
  if (!response) return { result: { id: "health", status: "fail", name: title, detail: "the answer is not HTTP", fix } };
  if (response.status !== 200) {
    return {
      result: { id: "health", status: "fail", name: title, detail: `GET ${rosterPath} answered HTTP ${response.status}`, fix: "see `cslr logs health`" },
    };
  }
  const roster = parseClusterViewText(response.body);
  if (!roster) {
    return {
      result: {
        id: "health",
        status: "fail",
        name: title,
        detail: `GET ${rosterPath} did not return a roster`,
        fix: "is another program on that port? see `cslr status`",
      },
    };
  }
  return { result: { id: "health", status: "ok", name: title }, roster };
}

/** The head-port check when there is no target to probe: no head, or an address without a port. */
export function checkNoHead(roster: RosterView | undefined, hostAlias: string): CheckResult {
  const title = "Ray head port is reachable from the test network";
  if (!roster) return { id: "head-port", status: "fail", name: title, detail: "skipped: the roster could not be read", fix: "fix the health check first" };
  if (!roster.head) {
    return {
      id: "head-port",
      status: "fail",
      name: title,
      detail: "no head is elected",
      fix: "see `cslr status` and `cslr logs ray-cpu`; is a whitelisted node running?",
    };
  }
  return {
    id: "head-port",
    status: "fail",
    name: title,
    detail: `head ${roster.head.node} registered as "${roster.head.address}", which is neither a service here nor host:port (${hostAlias} cannot lead to it)`,
    fix: "check CSLR_NODE_ADDRESS of the head node",
  };
}

export function checkHeadPort(outcome: ProbeOutcome, target: HeadTarget): CheckResult {
  const title = `Ray head port of ${target.node} is reachable at ${at(target.gcs)}`;
  if (outcome.code === 0) return { id: "head-port", status: "ok", name: title };
  return {
    id: "head-port",
    status: "fail",
    name: title,
    detail: `no connection (${firstLine(outcome.stderr) || `exit ${outcome.code}`})`,
    fix: target.local
      ? `check that ${target.node} publishes its head_port ${target.gcs.port} (\`cslr ps\`) and that the host firewall lets it in`
      : `open port ${target.gcs.port} on ${target.gcs.host} to this host`,
  };
}

export type RayFlavour = "standin" | "real" | "none";

export function readFlavour(outcome: ProbeOutcome): RayFlavour {
  const word = outcome.stdout.trim();
  return word === "standin" || word === "real" ? word : "none";
}

/** Stand-in: the Ray client port accepts a connection. */
export function checkClientPort(outcome: ProbeOutcome, target: HeadTarget): CheckResult {
  const title = `Ray client port is reachable at ray://${at(target.client)} (stand-in: TCP connect)`;
  if (outcome.code === 0) return { id: "client", status: "ok", name: title };
  return {
    id: "client",
    status: "fail",
    name: title,
    detail: `no connection (${firstLine(outcome.stderr) || `exit ${outcome.code}`})`,
    fix: `check that ${target.node} publishes its client_port ${target.client.port} and that the host firewall lets it in`,
  };
}

export interface RayClientReport {
  resources: Record<string, number>;
  nodes: { address: string; port: number }[];
}

export function readRayClientReport(stdout: string): RayClientReport | undefined {
  const line = stdout
    .trim()
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("{"));
  if (!line) return undefined;
  try {
    const value = JSON.parse(line) as RayClientReport;
    return Array.isArray(value.nodes) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Real Ray: `ray.init("ray://…")` worked and listed the cluster. */
export function checkRayClient(outcome: ProbeOutcome, target: HeadTarget): { result: CheckResult; report?: RayClientReport } {
  const title = `ray.init("ray://${at(target.client)}") connects`;
  const report = outcome.code === 0 ? readRayClientReport(outcome.stdout) : undefined;
  if (report) return { result: { id: "client", status: "ok", name: title, detail: `${report.nodes.length} nodes alive` }, report };
  return {
    result: {
      id: "client",
      status: "fail",
      name: title,
      detail: firstLine(outcome.stderr) || firstLine(outcome.stdout) || `exit ${outcome.code}`,
      fix: `check the client_port ${target.client.port} of ${target.node}; the client image's Ray version must match the cluster's`,
    },
  };
}

export function checkClientUnavailable(): CheckResult {
  return {
    id: "client",
    status: "fail",
    name: "Ray client check",
    detail: "the test image has neither Ray (python -c 'import ray') nor the stand-in",
    fix: "set services.ray.cpu.image to a Ray image",
  };
}

export interface WorkerExpectation {
  name: string;
  hostAddress: string;
  nodeManagerPort: number;
  ports: number[];
}

function workerFix(w: WorkerExpectation, containerState: string | undefined): string {
  if (containerState && containerState !== "running") {
    return `the test worker container is ${containerState}: see \`cslr test --logs\``;
  }
  return `the head must reach ${w.hostAddress} on ports ${w.ports[0]}-${w.ports.at(-1)}: open them in the host firewall, or change cluster_test.worker.* to free ports`;
}

/** An entry left by an earlier run: same join time as before this run's worker started. */
function isOldEntry(entry: RosterMember, before: RosterMember | undefined): boolean {
  return before !== undefined && entry.joinedAt !== undefined && entry.joinedAt === before.joinedAt;
}

/**
 * Stand-in: the election roster lists the test worker, joined in this run. `before` is its
 * entry as the roster listed it before the worker container started (an earlier run's).
 */
export function checkWorkerInRoster(roster: RosterView | undefined, w: WorkerExpectation, containerState?: string, before?: RosterMember): CheckResult {
  const title = `test worker ${w.name} joined through the host (advertising ${w.hostAddress})`;
  const entry = roster?.workers.find((n) => n.node === w.name);
  if (entry && !isOldEntry(entry, before)) return { id: "worker", status: "ok", name: title, detail: `in the roster as ${entry.address}` };
  return {
    id: "worker",
    status: "fail",
    name: title,
    detail: !roster
      ? "the roster could not be read"
      : entry
        ? "only an entry from an earlier run is in the roster; this run's worker did not join"
        : `not in the roster (workers: ${roster.workers.map((n) => n.node).join(", ") || "none"})`,
    fix: workerFix(w, containerState),
  };
}

/** Real Ray: the head lists an alive node at the worker's advertised address and node manager port. */
export function checkWorkerInRay(report: RayClientReport | undefined, w: WorkerExpectation, containerState?: string): CheckResult {
  const title = `test worker ${w.name} joined through the host (Ray node ${w.hostAddress}:${w.nodeManagerPort})`;
  const found = report?.nodes.some((n) => n.address === w.hostAddress && Number(n.port) === w.nodeManagerPort);
  if (found) return { id: "worker", status: "ok", name: title };
  return {
    id: "worker",
    status: "fail",
    name: title,
    detail: report ? `not among Ray's alive nodes (${report.nodes.map((n) => `${n.address}:${n.port}`).join(", ")})` : "no node list: the client check failed",
    fix: workerFix(w, containerState),
  };
}
