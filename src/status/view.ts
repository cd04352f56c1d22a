/**
 * The data of `cslr status` (also its --json) and its one-screen rendering. Pure: the
 * command gathers ps rows, the roster and the host address, this module shapes them.
 */
import type { Model, RayNode } from "../config/model.ts";
import { hostOf } from "../config/net.ts";
import type { PsRow } from "../compose/ps.ts";
import type { Roster, RosterHead, RosterWorker } from "./roster.ts";

export interface ServiceStatus {
  service: string;
  container: string;
  state: string;
  health: string;
  status: string;
}

export interface Endpoints {
  rayDashboard?: string;
  rayClient?: string;
  mlflow?: string;
  marimo?: string;
  redis?: string;
  health?: string;
}

export interface StatusReport {
  project: string;
  host: string;
  services: ServiceStatus[];
  head: RosterHead | null;
  term: number | null;
  workers: RosterWorker[];
  /** Why the roster is missing, when it is. */
  rosterError?: string;
  endpoints: Endpoints;
}


/** The local Ray node that is head, or, when the head is elsewhere, the first one that could be. */
function headNode(model: Model, head: RosterHead | null): { node?: RayNode; remoteHost?: string } {
  const withPorts = model.rayNodes.filter((n) => n.ports);
  if (!head) return {};
  const local = withPorts.find((n) => n.name === head.node);
  if (local) return { node: local };
  return { node: withPorts[0], remoteHost: hostOf(head.address) };
}

export function endpoints(model: Model, host: string, head: RosterHead | null): Endpoints {
  const s = model.config.services;
  const out: Endpoints = {};
  const { node, remoteHost } = headNode(model, head);
  if (node?.ports) {
    const rayHost = remoteHost ?? host;
    out.rayDashboard = `http://${rayHost}:${node.ports.dashboard}`;
    out.rayClient = `ray://${rayHost}:${node.ports.client}`;
  }
  if (s.mlflow.enabled) out.mlflow = `http://${host}:${s.mlflow.port}`;
  if (s.marimo.enabled) out.marimo = `http://${host}:${s.marimo.port}`;
  if (s.redis.enabled) out.redis = `redis://${host}:${s.redis.port}`;
  if (s.health.enabled) out.health = `http://${host}:${s.health.port}`;
  return out;
}

export function buildStatus(input: {
  model: Model;
  projectName: string;
  host: string;
  rows: PsRow[];
  roster: { roster: Roster } | { error: string };
}): StatusReport {
  const roster = "roster" in input.roster ? input.roster.roster : undefined;
  const head = roster?.head ?? null;
  return {
    project: input.projectName,
    host: input.host,
    services: input.rows.map((r) => ({ service: r.service, container: r.name, state: r.state, health: r.health, status: r.status })),
    head,
    term: roster?.term ?? null,
    workers: roster?.workers ?? [],
    rosterError: "error" in input.roster ? input.roster.error : undefined,
    endpoints: endpoints(input.model, input.host, head),
  };
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd());
}

const endpointLabels: [keyof Endpoints, string][] = [
  ["rayDashboard", "Ray dashboard"],
  ["rayClient", "Ray client"],
  ["mlflow", "MLflow UI"],
  ["marimo", "Marimo"],
  ["redis", "Redis"],
  ["health", "Health/election"],
];

export function renderStatus(report: StatusReport): string {
  const lines: string[] = [`Project ${report.project} on ${report.host}`, ""];
  if (report.services.length === 0) lines.push("Services: none running (start them with `cslr up -d`)");
  else {
    lines.push("Services:");
    const rows = [["SERVICE", "STATE", "HEALTH", "STATUS"]];
    for (const s of report.services) rows.push([s.service, s.state, s.health || "-", s.status]);
    lines.push(...table(rows).map((l) => `  ${l}`));
  }
  lines.push("");
  if (report.rosterError) lines.push(`Ray head: unknown (${report.rosterError})`);
  else if (!report.head) lines.push(`Ray head: none elected yet (term ${report.term ?? 0})`);
  else {
    const ready = report.head.ready ? "ready" : "starting";
    lines.push(`Ray head: ${report.head.node} (${report.head.address}), term ${report.head.term}, since ${report.head.since}, ${ready}`);
  }
  if (!report.rosterError) {
    lines.push(`Workers: ${report.workers.length}`);
    for (const w of report.workers) lines.push(`  ${w.node}  ${w.address}  last seen ${w.ageMs === undefined ? "?" : (w.ageMs / 1000).toFixed(1)} s ago`);
  }
  lines.push("", "Addresses:");
  const rows = endpointLabels.filter(([key]) => report.endpoints[key]).map(([key, label]) => [label, report.endpoints[key]!]);
  lines.push(...table(rows).map((l) => `  ${l}`));
  return `${lines.join("\n")}\n`;
}
