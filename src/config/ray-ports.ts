/**
 * Ports Ray itself takes (pure), and the rule that keeps cslr's configured ports off them.
 *
 * Real Ray 2.60 refuses to start a node one of whose ports lies in its worker port range
 * ("worker_ports is trying to use a port number 10002 that is used by other components"), and
 * a port another of its listeners takes at a fixed number fails later, so a config that
 * validates must not name one. The numbers below are Ray 2.60's own (ray/_private/
 * ray_constants.py, ray/util/client/server/proxier.py); cslr pins the worker range itself in
 * every layout, so Ray's default 10002–19999 is never used.
 */
import type { PathSegment } from "./config-error.ts";
import type { Problem } from "./rules.ts";
import type { Config } from "./schema.ts";

export interface PortSpan {
  min: number;
  max: number;
  /** Who takes these ports, for the message. */
  owner: string;
}

/**
 * Each Ray container's worker range in bridge networking (each container has its own
 * addresses, so every node may use the same one): clear of Ray's defaults below, of the head
 * ports cslr's defaults give (6379–6380, 8265–8266, 10001–10002) and of the kernel's ephemeral
 * range (32768 and up), where Ray's unpinned listeners land.
 */
export const bridgeWorkerPorts = { min: 20000, max: 22999 } as const;

/** The Ray Client server gives each `ray://` connection a server of its own on one of these. */
export const rayClientServerSpan: PortSpan = { min: 23000, max: 23999, owner: "Ray Client's per-connection servers" };

/** Fixed ports of Ray's agents when they are not pinned (bridge networking pins none of them). */
export const rayFixedDefaults: PortSpan[] = [
  { min: 52365, max: 52365, owner: "its dashboard agent's default listen port" },
  { min: 44227, max: 44227, owner: "its dashboard metrics (DASHBOARD_METRIC_PORT's default)" },
  { min: 44217, max: 44217, owner: "its autoscaler metrics (AUTOSCALER_METRIC_PORT's default)" },
];

/** What Ray takes inside each Ray container of bridge networking, besides the ports cslr configures. */
export function bridgeRaySpans(): PortSpan[] {
  return [{ ...bridgeWorkerPorts, owner: "its worker processes, pinned by cslr in bridge networking" }, rayClientServerSpan, ...rayFixedDefaults];
}

function describeSpan(span: PortSpan): string {
  return span.min === span.max ? String(span.min) : `${span.min}–${span.max}`;
}

function spanOf(port: number, spans: PortSpan[]): PortSpan | undefined {
  return spans.find((s) => port >= s.min && port <= s.max);
}

interface ConfiguredPort {
  path: PathSegment[];
  port: number;
}

/** The ports cslr configures for the Ray nodes here: each enabled head-capable node's GCS, dashboard and client ports. */
function rayNodePorts(config: Config, gpuEnabled: boolean): ConfiguredPort[] {
  const ray = config.services.ray;
  const out: ConfiguredPort[] = [];
  for (const [kind, enabled] of [["cpu", ray.cpu.enabled], ["gpu", gpuEnabled]] as const) {
    if (!enabled) continue;
    for (const field of ["head_port", "dashboard_port", "client_port"] as const) out.push({ path: ["services", "ray", kind, field], port: ray[kind][field] });
  }
  return out;
}

/**
 * Every configured port that lies on a port Ray itself takes, with the fix. Bridge
 * networking: a Ray node's own ports against what Ray takes in its container. Host
 * networking: every host port the stack uses against Ray Client's range (the head's client
 * server binds it on the host); the pinned blocks keep Ray's agents apart already.
 */
export function rayOwnPortProblems(config: Config, gpuEnabled: boolean, hostPorts: ConfiguredPort[]): Problem[] {
  const host = config.network.mode === "host";
  const spans = host ? [rayClientServerSpan] : bridgeRaySpans();
  const ports = host ? hostPorts : rayNodePorts(config, gpuEnabled);
  const avoid = spans.map(describeSpan).join(", ");
  const out: Problem[] = [];
  const seen = new Set<string>();
  for (const { path, port } of ports) {
    const span = spanOf(port, spans);
    // One line per field: a block of pinned ports names its base once, not for every port.
    const key = path.join(".");
    if (!span || seen.has(key)) continue;
    seen.add(key);
    out.push({ path, message: `port ${port} is one Ray takes itself (${describeSpan(span)}: ${span.owner}), so Ray would refuse to start or fail later; expected a port outside ${avoid}` });
  }
  return out;
}
