/**
 * Ports Ray itself takes (pure facts; the rule that keeps configured ports off them is
 * rayOwnPortProblems in rules.ts).
 *
 * Real Ray 2.60 refuses to start a node one of whose ports lies in its worker port range
 * ("worker_ports is trying to use a port number 10002 that is used by other components"), and
 * a port another of its listeners takes at a fixed number fails later, so a config that
 * validates must not name one. The numbers below are Ray 2.60's own (ray/_private/
 * ray_constants.py, ray/util/client/server/proxier.py); cslr pins the worker range itself in
 * every layout, so Ray's default 10002–19999 is never used.
 */

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

/**
 * The node agent's forwarder to the head's GCS inside each Ray container of bridge networking
 * (services.ray.gcs_store): every raylet's GCS address, whichever node is head.
 */
export const bridgeGcsProxyPort = 24000;

/**
 * Ray's own listeners inside each Ray container of bridge networking, pinned right after the
 * forwarder. Left to Ray, they are picked at random and the raylet waits for its agents to
 * write them to files (`metrics_agent_port_…`); on a loaded machine the dashboard agent took
 * longer than that wait and the raylet died ("Timed out waiting for file"), so a head never
 * started. Each container has its own addresses: every node may use the same numbers.
 */
export const bridgeAgentPorts = {
  nodeManagerPort: 24001,
  objectManagerPort: 24002,
  runtimeEnvAgentPort: 24003,
  dashboardAgentGrpcPort: 24004,
  dashboardAgentListenPort: 24005,
  metricsExportPort: 24006,
} as const;

/** What Ray (and cslr's GCS forwarder) take inside each Ray container of bridge networking, besides the ports cslr configures. */
export function bridgeRaySpans(): PortSpan[] {
  return [
    { ...bridgeWorkerPorts, owner: "its worker processes, pinned by cslr in bridge networking" },
    rayClientServerSpan,
    {
      min: bridgeGcsProxyPort,
      max: bridgeAgentPorts.metricsExportPort,
      owner: "cslr's forwarder to the head's GCS and Ray's agents, pinned by cslr in bridge networking",
    },
    ...rayFixedDefaults,
  ];
}

/** `52365`, or `20000–22999`. */
export function describeSpan(span: PortSpan): string {
  return span.min === span.max ? String(span.min) : `${span.min}–${span.max}`;
}

/** Ports of a host-network node's block before its worker range (Ray's own listeners, two spare). */
export const blockPortsBeforeWorkers = 10;

/**
 * The fewest worker ports a Ray node with `cpus` CPUs may have. Ray's raylet hands one port of
 * the range to every worker process and every driver, and refuses a worker when none is free
 * ("Failed to register worker to Raylet: No available ports"; the job then waits out Ray's 60 s
 * registration timeout). At once a node holds up to one worker per CPU in the default runtime
 * environment (Ray prestarts them for the first driver) and as many again for a job's own
 * environment (every `cslr run` ships its folder as one) while the others wind down, plus the
 * drivers, actors and workers still starting: two per CPU and 16 more.
 */
export function workerPortsNeeded(cpus: number): number {
  return 2 * Math.ceil(cpus) + 16;
}
