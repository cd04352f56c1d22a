/**
 * The data of `cslr status` (also its --json) and its one-screen rendering. Pure: the
 * command gathers ps rows, the roster and this host's address, this module shapes them.
 * The cluster is shown by workstation: each host with its nodes, their roles and last report.
 */
import { containerJson, type ContainerJson, type PsRow } from "../compose/ps.ts";
import { hostOfNode, serviceOf } from "../config/names.ts";
import { hostOf } from "../config/net.ts";
import type { RosterView, RosterHeadView, RosterMember } from "../election/roster.ts";
import type { HeadPorts, StackFacts } from "./stack.ts";
import { formatJoinToken, joinInstructions } from "../join/token.ts";

/** A container of a service here, with the same fields as in `ps --json`. */
export type ServiceStatus = ContainerJson;

export interface Endpoints {
  rayDashboard?: string;
  rayClient?: string;
  mlflow?: string;
  marimo?: string;
  redis?: string;
  health?: string;
}

export interface HostNode {
  node: string;
  role: "head" | "worker";
  address: string;
  ready?: boolean;
  /** Milliseconds since the node last reported (workers). */
  ageMs?: number;
}

export interface HostStatus {
  name: string;
  /** Its address as the nodes advertise it. */
  address: string;
  nodes: HostNode[];
}

export interface StatusReport {
  schemaVersion: 1;
  project: string;
  /** This workstation: its name and the address others reach it by. */
  host: string;
  address: string;
  mode: "bridge" | "host";
  services: ServiceStatus[];
  head: RosterHeadView | null;
  term: number | null;
  workers: RosterMember[];
  hosts: HostStatus[];
  /** Workstations whose nodes were in the cluster and have all been silent for three lease TTLs (read with the cluster token). */
  goneHosts: { host: string; address: string; lastSeen: string }[];
  /** Why the roster is missing, when it is. */
  rosterError?: string;
  endpoints: Endpoints;
  /** What `ray start --address` takes to join this cluster's head. */
  gcsAddress?: string;
  /** Where heads keep Ray's state (GCS fault tolerance); absent: Ray's own memory, a new head is a new cluster. */
  gcsStore?: { redis: string; namespace: string };
  /** The command that adds a workstation (on a coordinator with host networking); it reads the token from standard input. */
  join?: string;
  /** The lab page (the election service's `/`): where `cslr open` goes. */
  page?: string;
  /** The coordinator's URL in that command. */
  joinUrl?: string;
  /** The join token to paste into it: cslr1.<certificate pin>.<cluster token>. */
  joinToken?: string;
  /** The cslr version the election service runs, when it answered; `versionMismatch` when it is not this CLI's. */
  serviceVersion?: string;
  cliVersion?: string;
  versionMismatch?: boolean;
}

/** A head of this stack in bridge networking: its ports are published on this host. */
function localHead(stack: StackFacts, head: RosterHeadView): HeadPorts | undefined {
  const local = stack.mode === "bridge" ? stack.localHeads.find((n) => n.name === head.node) : undefined;
  return local ? stack.headPorts[local.service] : undefined;
}

/** Where the head's dashboard and client are: this host's published ports, or the head's own address. */
function headPlace(stack: StackFacts, head: RosterHeadView | null): { remoteHost?: string; ports?: HeadPorts } {
  if (!head) return {};
  const local = localHead(stack, head);
  if (local) return { ports: local };
  // A head named outside cslr's scheme (a fixed head_address) is assumed to use ray-cpu's ports.
  return { remoteHost: hostOf(head.address), ports: stack.headPorts[serviceOf(head.node)] ?? stack.headPorts["ray-cpu"] };
}

/** The URLs to use; ports published on one address (network.bind_address) are shown there. */
export function endpoints(stack: StackFacts, address: string, head: RosterHeadView | null): Endpoints {
  const here = stack.bindAddress ?? address;
  const out: Endpoints = {};
  const { remoteHost, ports } = headPlace(stack, head);
  if (ports) {
    const rayHost = remoteHost ?? here;
    out.rayDashboard = `http://${rayHost}:${ports.dashboard}`;
    out.rayClient = `ray://${rayHost}:${ports.client}`;
  }
  const p = stack.published;
  if (p.mlflow !== undefined) out.mlflow = `http://${here}:${p.mlflow}`;
  if (p.marimo !== undefined) out.marimo = `http://${here}:${p.marimo}`;
  if (p.redis !== undefined) out.redis = `redis://${here}:${p.redis}`;
  // The election service speaks HTTPS unless plain HTTP was asked for: its scheme is the roster URL's.
  if (p.health !== undefined) out.health = `${stack.rosterUrl.startsWith("https:") ? "https" : "http"}://${here}:${p.health}`;
  return out;
}

/**
 * The lab page: the election service's `/`, at this host's published port when it runs here,
 * else at the coordinator's URL (a member workstation). Undefined when only loopback is known.
 */
export function pageUrlOf(stack: StackFacts, address: string): string | undefined {
  const url = new URL(stack.rosterUrl);
  // The page is served the way the election service speaks: https once it has its certificate.
  if (stack.published.health !== undefined) return `${url.protocol}//${stack.bindAddress ?? address}:${stack.published.health}/`;
  return url.hostname === "127.0.0.1" || url.hostname === "localhost" ? undefined : `${url.origin}/`;
}

/** The roster by workstation: a node's host is what it said, else the part of its name after the service. */
export function hostsOf(roster: RosterView | undefined, localHost: string): HostStatus[] {
  if (!roster) return [];
  const byHost = new Map<string, HostStatus>();
  const add = (entry: { node: string; host?: string; address: string }, node: HostNode) => {
    const name = entry.host ?? hostOfNode(entry.node) ?? localHost;
    const host = byHost.get(name) ?? { name, address: hostOf(entry.address), nodes: [] };
    host.nodes.push(node);
    byHost.set(name, host);
  };
  if (roster.head) add(roster.head, { node: roster.head.node, role: "head", address: roster.head.address, ready: roster.head.ready });
  for (const w of roster.workers) add(w, { node: w.node, role: "worker", address: w.address, ageMs: w.ageMs });
  return [...byHost.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * In bridge networking every node is on this host and advertises its container's service name
 * (ray-cpu:6379): the workstation's address shown is this host's, not a container name.
 */
function localAddresses(stack: StackFacts, hosts: HostStatus[], address: string): HostStatus[] {
  return stack.mode === "bridge" ? hosts.map((h) => (h.name === stack.hostName ? { ...h, address } : h)) : hosts;
}

export function buildStatus(input: {
  stack: StackFacts;
  projectName: string;
  address: string;
  rows: PsRow[];
  roster: { roster: RosterView } | { error: string };
  clusterToken?: string;
  serviceVersion?: string;
  cliVersion?: string;
}): StatusReport {
  const { stack } = input;
  const roster = "roster" in input.roster ? input.roster.roster : undefined;
  const head = roster?.head ?? null;
  const scheme = stack.rosterUrl.startsWith("https:") ? "https" : "http";
  const coordinator = stack.published.health !== undefined ? `${scheme}://${input.address}:${stack.published.health}` : undefined;
  const joinable = stack.mode === "host" && coordinator && input.clusterToken;
  const join = joinable ? `cslr join ${coordinator} --token -` : undefined;
  const joinToken = joinable ? formatJoinToken({ secret: input.clusterToken!, pin: stack.electionPin }) : undefined;
  return {
    schemaVersion: 1,
    project: input.projectName,
    host: stack.hostName,
    address: input.address,
    mode: stack.mode,
    services: input.rows.map(containerJson),
    head,
    term: roster?.term ?? head?.term ?? null,
    workers: roster?.workers ?? [],
    hosts: localAddresses(stack, hostsOf(roster, stack.hostName), input.address),
    goneHosts: roster?.gone ?? [],
    rosterError: "error" in input.roster ? input.roster.error : undefined,
    endpoints: endpoints(stack, input.address, head),
    gcsAddress: head?.ready ? gcsAddressOf(stack, head, input.address) : undefined,
    gcsStore: stack.gcs,
    join,
    page: pageUrlOf(stack, input.address),
    joinUrl: joinable ? coordinator : undefined,
    joinToken,
    serviceVersion: input.serviceVersion,
    cliVersion: input.cliVersion,
    versionMismatch: input.serviceVersion !== undefined && input.cliVersion !== undefined && input.serviceVersion !== input.cliVersion ? true : undefined,
  };
}

/** The head as another machine reaches it: this host's address for a head published here, else its own. */
function gcsAddressOf(stack: StackFacts, head: RosterHeadView, address: string): string {
  const local = localHead(stack, head);
  return local ? `${stack.bindAddress ?? address}:${local.head}` : head.address;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd(),
  );
}

const endpointLabels: [keyof Endpoints, string][] = [
  ["rayDashboard", "Ray dashboard"],
  ["rayClient", "Ray client"],
  ["mlflow", "MLflow UI"],
  ["marimo", "Marimo"],
  ["redis", "Redis"],
  ["health", "Health/election"],
];

function seconds(ms: number | undefined): string {
  return ms === undefined ? "?" : `${(ms / 1000).toFixed(1)} s ago`;
}

export function renderStatus(report: StatusReport): string {
  const lines: string[] = [`Project ${report.project} on ${report.host} (${report.address}), ${report.mode} networking`, ""];
  if (report.services.length === 0) lines.push("Services here: none running (start them with `cslr up -d`)");
  else {
    lines.push("Services here:");
    const rows = [["SERVICE", "STATE", "HEALTH", "STATUS"]];
    for (const s of report.services) rows.push([s.service, s.state, s.health || "-", s.status]);
    lines.push(...table(rows).map((l) => `  ${l}`));
  }
  lines.push("");
  if (report.rosterError) lines.push(`Ray head: unknown (${report.rosterError})`);
  else if (!report.head) lines.push(`Ray head: none elected yet${report.term !== null ? ` (term ${report.term})` : ""}`);
  else {
    const ready = report.head.ready ? "ready" : "starting";
    const term = report.head.term !== undefined ? `, term ${report.head.term}` : "";
    lines.push(`Ray head: ${report.head.node} (${report.head.address})${term}, since ${report.head.since ?? "?"}, ${ready}`);
  }
  lines.push(
    report.gcsStore
      ? `Head changes: the cluster survives them (Ray's state in Redis ${report.gcsStore.redis}, namespace ${report.gcsStore.namespace})`
      : "Head changes: a new head starts a new Ray cluster (services.ray.gcs_store: memory)",
  );
  if (!report.rosterError && report.hosts.length > 0) {
    lines.push("", "Workstations:");
    for (const host of report.hosts) {
      lines.push(`  ${host.name} (${host.address})`);
      const rows = host.nodes.map((n) => [
        n.node,
        n.role === "head" ? (n.ready ? "head" : "head, starting") : "worker",
        n.address,
        n.role === "worker" ? `last report ${seconds(n.ageMs)}` : "",
      ]);
      lines.push(...table(rows).map((l) => `    ${l}`));
    }
  }
  if (!report.rosterError && report.goneHosts.length > 0) {
    lines.push("", "Gone (were in the cluster; no report from their nodes for three lease TTLs):");
    for (const gone of report.goneHosts) lines.push(`  ${gone.host} (${gone.address}), last report ${gone.lastSeen}`);
    lines.push("  A rebooted workstation rejoins by itself once its Docker runs again; `cslr leave` there, once it is back, takes it out for good.");
  }
  lines.push("", "Addresses:");
  if (report.page) lines.push(`  Lab page         ${report.page}   (cslr open; sign in with the cluster token)`);
  const rows = endpointLabels.filter(([key]) => report.endpoints[key]).map(([key, label]) => [label, report.endpoints[key]!]);
  lines.push(...table(rows).map((l) => `  ${l}`));
  if (report.gcsAddress) lines.push(`  Ray GCS          ${report.gcsAddress}   (ray start --address=${report.gcsAddress})`);
  if (report.versionMismatch) {
    lines.push(
      "",
      `Note: the election service runs cslr ${report.serviceVersion}, this CLI is ${report.cliVersion}: \`cslr up\` updates it (and the Ray nodes, whose agent is cslr too)`,
    );
  }
  if (report.joinUrl && report.joinToken) lines.push("", ...joinInstructions(report.joinUrl, report.joinToken));
  return `${lines.join("\n")}\n`;
}
