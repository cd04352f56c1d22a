/**
 * Where a forming cluster is, as a pure function of what compose and the roster say. `up
 * --wait` polls both and shows the phase; it stops on "ready" or "failed".
 * Order: containers running → health service healthy → head elected → this host's Ray nodes
 * on the roster k/n → every other started service with a healthcheck healthy (MLflow, Redis,
 * PostgreSQL: what `docker compose up --wait` waits for) → ready. Only this host's nodes are counted: with several workstations the
 * head and other workers are elsewhere, and a worker that left earlier is no news. `up --wait`
 * then asks the head itself (src/status/wait.ts): its Jobs API, and the head and this host's
 * nodes ALIVE in Ray's own node list (`rayNodesMissing`).
 */
import type { PsRow } from "../compose/ps.ts";
import { hostOf } from "../config/net.ts";
import type { RosterView } from "../election/roster.ts";

export interface WaitExpectation {
  /** Compose services that must be running. */
  services: string[];
  /** Service whose healthcheck gates the election, when the health service runs here. */
  healthService?: string;
  /** Whether to wait for the election at all (false with a fixed head_address). */
  election: boolean;
  /** Names of the Ray nodes started here: each must be on the roster, as head or as a worker of the current term. */
  nodes: string[];
}

export type WaitPhase =
  | { kind: "failed"; service: string; reason: string }
  | { kind: "containers"; running: number; total: number; pending: string[] }
  | { kind: "health"; health: string }
  | { kind: "election"; detail?: string }
  | { kind: "workers"; head: string; joined: number; expected: number; missing: string[] }
  | { kind: "healthchecks"; pending: string[] }
  | { kind: "jobs-api"; head: string; reason: string }
  /** The roster has them, Ray's own node list does not (yet): `missing` are not ALIVE there; `reason` when the list could not be read. */
  | { kind: "ray-nodes"; head: string; alive: number; expected: number; missing: string[]; reason?: string }
  | { kind: "ready"; head?: string; joined: number; expected: number };

export function waitPhase(rows: PsRow[], roster: { roster: RosterView } | { error: string } | undefined, expect: WaitExpectation): WaitPhase {
  for (const row of rows) {
    if (expect.services.includes(row.service) && (row.state === "exited" || row.state === "dead")) {
      return { kind: "failed", service: row.service, reason: `container ${row.name} ${row.state} (exit code ${row.exitCode})` };
    }
    if (expect.services.includes(row.service) && row.health === "unhealthy") {
      return { kind: "failed", service: row.service, reason: `container ${row.name} is unhealthy` };
    }
  }
  const running = new Set(rows.filter((r) => r.state === "running").map((r) => r.service));
  const pending = expect.services.filter((s) => !running.has(s));
  if (pending.length > 0) {
    return { kind: "containers", running: expect.services.length - pending.length, total: expect.services.length, pending };
  }
  if (expect.healthService) {
    const health = rows.find((r) => r.service === expect.healthService)?.health ?? "";
    if (health !== "healthy" && health !== "") return { kind: "health", health };
  }
  const expected = expect.nodes.length;
  const unhealthy = [...new Set(rows.filter((r) => expect.services.includes(r.service) && r.health !== "" && r.health !== "healthy").map((r) => r.service))];
  if (!expect.election) return unhealthy.length > 0 ? { kind: "healthchecks", pending: unhealthy } : { kind: "ready", joined: 0, expected: 0 };
  if (!roster || "error" in roster) return { kind: "election", detail: roster && "error" in roster ? roster.error : undefined };
  const head = roster.roster.head;
  if (!head) return { kind: "election" };
  const term = head.term ?? roster.roster.term;
  const present = new Set([
    head.node,
    ...roster.roster.workers.filter((w) => term === undefined || w.term === undefined || w.term === term).map((w) => w.node),
  ]);
  const missing = expect.nodes.filter((n) => !present.has(n));
  const joined = expected - missing.length;
  if (missing.length > 0 || !head.ready) return { kind: "workers", head: head.node, joined, expected, missing };
  if (unhealthy.length > 0) return { kind: "healthchecks", pending: unhealthy };
  return { kind: "ready", head: head.node, joined, expected };
}

export function describePhase(phase: WaitPhase): string {
  switch (phase.kind) {
    case "failed":
      return `${phase.service} failed: ${phase.reason}`;
    case "containers":
      return `containers running ${phase.running}/${phase.total} (waiting for ${phase.pending.join(", ")})`;
    case "health":
      return `health service ${phase.health || "starting"}`;
    case "election":
      return "health healthy → waiting for head election";
    case "workers":
      return `head elected: ${phase.head} → this host's Ray nodes on the roster ${phase.joined}/${phase.expected}`;
    case "healthchecks":
      return `waiting for the healthchecks of ${phase.pending.join(", ")}`;
    case "jobs-api":
      return `head ${phase.head} elected → waiting for its Jobs API to answer (${phase.reason})`;
    case "ray-nodes":
      return `head ${phase.head} elected, its Jobs API answers → Ray nodes ALIVE in Ray's own view ${phase.alive}/${phase.expected} (${phase.reason ?? `waiting for ${phase.missing.join(", ")}`})`;
    case "ready":
      return phase.head ? `ready: head ${phase.head}, this host's Ray nodes on the roster ${phase.joined}/${phase.expected}` : "ready: all containers running";
  }
}

/** A node as the head's dashboard lists it (src/page/ray-nodes.ts reads the answer). */
export interface RayNodeSeen {
  ip: string;
  hostname: string;
  alive: boolean;
}

/**
 * The nodes of `nodes` that Ray's own node list does not show ALIVE. A roster node is a Ray
 * node at its roster address: the same IP (host networking: a workstation's nodes share it,
 * so each ALIVE node there counts once) or, in bridge networking where the address is the
 * service name, the same hostname. The roster says a node's agent joined; Ray's list says its
 * raylet registered with the GCS, which is what a job needs.
 */
export function rayNodesMissing(nodes: string[], roster: RosterView, seen: RayNodeSeen[]): string[] {
  const members = [...(roster.head ? [roster.head] : []), ...roster.workers];
  const free = seen.filter((n) => n.alive);
  const missing: string[] = [];
  for (const node of nodes) {
    const member = members.find((m) => m.node === node);
    const host = member ? hostOf(member.address) : undefined;
    const index = host === undefined ? -1 : free.findIndex((n) => n.ip === host || n.hostname === host);
    if (index < 0) missing.push(node);
    else free.splice(index, 1);
  }
  return missing;
}
