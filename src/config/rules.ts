/**
 * Pure rules across fields, on values the schemas accepted: host ports used twice, subnets
 * that overlap, port ranges, the whitelist. No YAML here: the fast path of loading runs these
 * without the `yaml` package, which only positions the problems when there are some.
 */
import type { PathSegment } from "./config-error.ts";
import { cidrsOverlap, parseHostPort, parseIpv4Cidr, portRange } from "./net.ts";
import { pinnedPortList, pinnedPortsOf, testWorkerPinnedPorts } from "./normalise.ts";
import { blockPortsBeforeWorkers, bridgeRaySpans, describeSpan, rayClientServerSpan, workerPortsNeeded, type PortSpan } from "./ray-ports.ts";
import type { Config, Nodes } from "./schema.ts";

/** A problem found by a rule across fields; positioned later, only when it is reported. */
export interface Problem {
  path: PathSegment[];
  message: string;
}

export interface HostPortUse {
  /** The compose service that publishes the port. */
  service: string;
  key: string;
  path: PathSegment[];
  port: number;
}

/** The test worker's port range, when it is a sane one (the range rule reports the others). */
function workerPortRange(config: Config): number[] {
  const { min_worker_port: min, max_worker_port: max } = config.cluster_test.worker;
  if (min > max || max - min >= 1000) return [];
  return portRange(min, max);
}

/** Every host port the stack publishes, with the config key that sets it. */
export function publishedHostPorts(config: Config, gpuEnabled: boolean): HostPortUse[] {
  const s = config.services;
  const uses: HostPortUse[] = [];
  const add = (enabled: boolean, service: string, path: PathSegment[], port: number) => {
    if (enabled) uses.push({ service, key: path.join("."), path, port });
  };
  add(s.health.enabled, "health", ["services", "health", "port"], s.health.port);
  for (const [kind, enabled] of [
    ["cpu", s.ray.cpu.enabled],
    ["gpu", gpuEnabled],
  ] as const) {
    const node = s.ray[kind];
    for (const field of ["head_port", "dashboard_port", "client_port"] as const) {
      add(enabled, `ray-${kind}`, ["services", "ray", kind, field], node[field]);
    }
  }
  add(s.redis.enabled, "ray-redis", ["services", "redis", "port"], s.redis.port);
  add(s.mlflow.enabled, "mlflow", ["services", "mlflow", "port"], s.mlflow.port);
  add(s.marimo.enabled, "marimo", ["services", "marimo", "port"], s.marimo.port);
  // On the host network every Ray node's block of pinned ports is on this host too.
  if (config.network.mode === "host") uses.push(...rayBlockPorts(config, gpuEnabled));
  // The cluster test's worker publishes these on the same host while `cslr test` runs.
  uses.push(...testWorkerPorts(config));
  return uses;
}

/** Each Ray node's block of pinned ports (`services.ray.host_ports`), in the order the blocks are handed out. */
function rayBlockPorts(config: Config, gpuEnabled: boolean): HostPortUse[] {
  const ray = config.services.ray;
  const { base, per_node: perNode } = ray.host_ports;
  const services = [
    ...(ray.cpu.enabled ? ["ray-cpu"] : []),
    ...(gpuEnabled ? ["ray-gpu"] : []),
    ...Array.from({ length: ray.workers }, (_, i) => `ray-worker-${i + 1}`),
  ];
  const uses: HostPortUse[] = [];
  services.forEach((service, index) => {
    if (base + (index + 1) * perNode - 1 > 65535) return;
    for (const port of pinnedPortList(pinnedPortsOf(base, perNode, index))) {
      uses.push({ service, key: `services.ray.host_ports (block of ${service})`, path: ["services", "ray", "host_ports", "base"], port });
    }
  });
  return uses;
}

/** The ports the cluster test's worker publishes: node and object manager, Ray's agents and metrics, its worker range. */
function testWorkerPorts(config: Config): HostPortUse[] {
  const worker = testWorkerPinnedPorts(config.cluster_test.worker);
  const uses: HostPortUse[] = [
    {
      service: "test-ray-worker",
      key: "cluster_test.worker.node_manager_port",
      path: ["cluster_test", "worker", "node_manager_port"],
      port: worker.nodeManagerPort,
    },
    {
      service: "test-ray-worker",
      key: "cluster_test.worker.object_manager_port",
      path: ["cluster_test", "worker", "object_manager_port"],
      port: worker.objectManagerPort,
    },
  ];
  for (const port of [
    worker.runtimeEnvAgentPort,
    worker.dashboardAgentGrpcPort,
    worker.dashboardAgentListenPort,
    worker.metricsExportPort,
    worker.dashboardMetricsPort,
    worker.autoscalerMetricsPort,
  ]) {
    uses.push({
      service: "test-ray-worker",
      key: "cluster_test.worker.object_manager_port (+1..+6: Ray's agents and metrics)",
      path: ["cluster_test", "worker", "object_manager_port"],
      port,
    });
  }
  for (const port of workerPortRange(config)) {
    uses.push({
      service: "test-ray-worker",
      key: "cluster_test.worker.min_worker_port..max_worker_port",
      path: ["cluster_test", "worker", "min_worker_port"],
      port,
    });
  }
  return uses;
}

/**
 * Docker refuses a container's `cpus` above the engine's CPU count ("Range of CPUs is from 0.01
 * to 2.00"), and only when it creates that container, after the networks, volumes and other
 * services: refused here first. Worker replicas take ray-cpu's limit, so it counts when they run.
 */
export function cpuLimitProblems(config: Config, gpuEnabled: boolean, hostCpus: number): Problem[] {
  const ray = config.services.ray;
  const runs = { cpu: ray.cpu.enabled || ray.workers > 0, gpu: gpuEnabled };
  const out: Problem[] = [];
  for (const kind of ["cpu", "gpu"] as const) {
    const cpus = ray[kind].cpus;
    if (!runs[kind] || cpus === undefined || Number(cpus) <= hostCpus) continue;
    out.push({
      path: ["services", "ray", kind, "cpus"],
      message: `${String(cpus).trim()} CPUs is more than this host has (${hostCpus}), and Docker refuses it; expected at most ${hostCpus}, or leave cpus out for no limit`,
    });
  }
  return out;
}

export function isLoopback(address: string): boolean {
  return address.startsWith("127.") || address === "::1";
}

/**
 * With several workstations the others reach this host's election service on its published
 * port; bound to loopback, they never could.
 */
export function bindAddressProblems(config: Config): Problem[] {
  const address = config.network.bind_address;
  if (config.network.mode !== "host" || !config.services.health.enabled || !isLoopback(address)) return [];
  return [
    {
      path: ["network", "bind_address"],
      message: `${address} hides the election service (services.health.port) from the other workstations of network.mode host; expected 0.0.0.0 or an address they reach`,
    },
  ];
}

/** The blocks of all Ray nodes must fit below 65536. */
export function hostPortBlockProblems(config: Config, gpuEnabled: boolean): Problem[] {
  if (config.network.mode !== "host") return [];
  const { base, per_node: perNode } = config.services.ray.host_ports;
  const count = (config.services.ray.cpu.enabled ? 1 : 0) + (gpuEnabled ? 1 : 0) + config.services.ray.workers;
  const last = base + count * perNode - 1;
  if (last <= 65535) return [];
  return [
    {
      path: ["services", "ray", "host_ports", "base"],
      message: `${count} Ray nodes × ${perNode} ports from ${base} end at ${last}; expected them to fit below 65536 (lower base or per_node)`,
    },
  ];
}

/**
 * On the host network each Ray node's worker range is the rest of its block (per_node minus
 * Ray's own listeners): refused when it is too small for the node's CPUs (its `cpus`, else
 * every CPU of this host, as Ray counts them), with the per_node that fits.
 */
export function hostWorkerPortProblems(config: Config, gpuEnabled: boolean, hostCpus: number): Problem[] {
  if (config.network.mode !== "host") return [];
  const ray = config.services.ray;
  const perNode = ray.host_ports.per_node;
  const have = perNode - blockPortsBeforeWorkers;
  const kinds = (["cpu", "gpu"] as const).filter((kind) => (kind === "cpu" ? ray.cpu.enabled || ray.workers > 0 : gpuEnabled));
  const cpusOf = (kind: "cpu" | "gpu") => (ray[kind].cpus === undefined ? hostCpus : Number(ray[kind].cpus));
  const worst = kinds.map((kind) => ({ kind, cpus: cpusOf(kind) })).sort((x, y) => y.cpus - x.cpus)[0];
  if (!worst || workerPortsNeeded(worst.cpus) <= have) return [];
  const need = workerPortsNeeded(worst.cpus);
  const fitting = Math.floor((have - workerPortsNeeded(0)) / 2);
  const cpusFix = fitting >= 1 ? `, or services.ray.${worst.kind}.cpus at most ${fitting}` : "";
  const count = `${worst.cpus} CPU${worst.cpus === 1 ? "" : "s"}`;
  const whose = ray[worst.kind].cpus === undefined ? `this host's ${count}` : `its ${count}`;
  return [
    {
      path: ["services", "ray", "host_ports", "per_node"],
      message: `${perNode} ports per node leave ray-${worst.kind} ${have} worker ports; Ray needs ${need} for ${whose} (2 per CPU + 16), else jobs stall on "No available ports"; expected per_node at least ${need + blockPortsBeforeWorkers}${cpusFix}`,
    },
  ];
}

export function workerPortRangeProblems(config: Config): Problem[] {
  const { min_worker_port: min, max_worker_port: max } = config.cluster_test.worker;
  if (min <= max && max - min < 1000) return [];
  return [
    {
      path: ["cluster_test", "worker", "max_worker_port"],
      message: `worker port range ${min}..${max} is ${min > max ? "empty" : "too wide"}; expected min_worker_port <= max_worker_port and at most 1000 ports`,
    },
  ];
}

export function duplicatePortProblems(uses: HostPortUse[]): Problem[] {
  const byPort = new Map<number, HostPortUse[]>();
  for (const use of uses) byPort.set(use.port, [...(byPort.get(use.port) ?? []), use]);
  const out: Problem[] = [];
  for (const use of uses) {
    const others = byPort
      .get(use.port)!
      .filter((u) => u !== use)
      .map((u) => u.key);
    if (others.length > 0) {
      out.push({ path: use.path, message: `host port ${use.port} is also used by ${others.join(", ")}; expected each host port once` });
    }
  }
  return out;
}

/** Two explicit subnets of this project must not overlap (Docker keeps the ones it picks apart itself). */
export function subnetProblems(config: Config): Problem[] {
  if (config.network.subnet === undefined || config.cluster_test.subnet === undefined) return [];
  const main = parseIpv4Cidr(config.network.subnet);
  const test = parseIpv4Cidr(config.cluster_test.subnet);
  if (main && test && cidrsOverlap(main, test)) {
    return [
      {
        path: ["cluster_test", "subnet"],
        message: `${config.cluster_test.subnet} overlaps network.subnet ${config.network.subnet}; expected a separate subnet so the test network is isolated`,
      },
    ];
  }
  return [];
}

/**
 * With several workstations (host networking) a member's Ray nodes reach the election service
 * through the host's network, where the container name `health` means nothing.
 */
export function hostNetworkUrlProblems(config: Config, nodes: Nodes): Problem[] {
  if (config.network.mode !== "host" || config.services.health.enabled || nodes.head_address !== null) return [];
  const host = new URL(nodes.health_service.url).hostname;
  if (host !== "health") return [];
  return [
    {
      path: ["health_service", "url"],
      message: `${nodes.health_service.url} is a container name, which Ray nodes on the host network cannot resolve; expected the coordinator's address, like http://10.0.0.5:8888 (cslr join writes it)`,
    },
  ];
}

/** An https election service on another host is reached only with its certificate's pin. */
export function electionPinProblems(config: Config, nodes: Nodes): Problem[] {
  if (config.services.health.enabled || nodes.head_address !== null) return [];
  if (!nodes.health_service.url.startsWith("https:") || nodes.health_service.pin !== undefined) return [];
  return [
    {
      path: ["health_service", "url"],
      message: `${nodes.health_service.url} is https with no health_service.pin; expected the pin from the join token (cslr1.<pin>.<secret>), which cslr join writes`,
    },
  ];
}

/** `gcs_store: redis` keeps Ray's state in this stack's Redis, which must then run. */
export function gcsStoreProblems(config: Config): Problem[] {
  if (config.services.ray.gcs_store !== "redis" || config.services.redis.enabled) return [];
  return [
    {
      path: ["services", "ray", "gcs_store"],
      message:
        "redis keeps the head's GCS in this stack's Redis, but services.redis.enabled is false; expected services.redis.enabled: true, or gcs_store: memory (a new head then starts a new cluster)",
    },
  ];
}

/**
 * The election service on another host (or a fixed head elsewhere) makes this a member of a
 * cluster spread over several workstations. In bridge networking its Ray nodes would advertise
 * container addresses that no other host can dial back: the head's GCS health checks fail and
 * declare them dead. Refused here, with the fix, instead of failing that way at run time.
 */
export function multiHostBridgeProblems(config: Config, nodes: Nodes): Problem[] {
  if (config.network.mode !== "bridge" || config.services.health.enabled) return [];
  const rayHere = config.services.ray.cpu.enabled || config.services.ray.gpu.enabled !== false || config.services.ray.workers > 0;
  if (!rayHere) return [];
  // A fixed head that is one of this stack's own services keeps everything on one host.
  const fixedHead = nodes.head_address === null ? undefined : parseHostPort(nodes.head_address)?.host;
  if (fixedHead === "ray-cpu" || fixedHead === "ray-gpu") return [];
  return [
    {
      path: ["network", "mode"],
      message:
        "bridge networking with the election service on another host (services.health.enabled: false): Ray nodes here would advertise container addresses the head cannot reach back; expected network.mode: host (cslr join writes it)",
    },
  ];
}

/**
 * On one workstation (bridge networking) with no fixed head_address, some whitelisted node
 * must be a Ray service that runs here. With several workstations the head may be elsewhere.
 */
export function whitelistProblems(config: Config, nodes: Nodes, enabledRayServices: string[]): Problem[] {
  // Without the election service here, the head is elsewhere (multiHostBridgeProblems speaks for bridge mode).
  if (nodes.head_address !== null || config.network.mode === "host" || !config.services.health.enabled) return [];
  if (nodes.head_whitelist.some((name) => enabledRayServices.includes(name))) return [];
  const enabled = enabledRayServices.length > 0 ? enabledRayServices.join(", ") : "none are enabled";
  return [
    {
      path: ["head_whitelist"],
      message: `no whitelisted node is an enabled Ray service, so no node could become head; expected at least one of: ${enabled}`,
    },
  ];
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
  for (const [kind, enabled] of [
    ["cpu", ray.cpu.enabled],
    ["gpu", gpuEnabled],
  ] as const) {
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
    out.push({
      path,
      message: `port ${port} is one Ray takes itself (${describeSpan(span)}: ${span.owner}), so Ray would refuse to start or fail later; expected a port outside ${avoid}`,
    });
  }
  return out;
}
