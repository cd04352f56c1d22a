/** Pure: validated config + nodes + what the host has → the one Model the renderers use. */
import type { ClusterTest, GcsStore, Model, PinnedRayPorts, RayNode } from "./model.ts";
import { nodeName, whitelists } from "./names.ts";
import { portRange, redisStoreAddress } from "./net.ts";
import { blockPortsBeforeWorkers, bridgeGcsProxyPort, bridgeWorkerPorts } from "./ray-ports.ts";
import type { Config, Nodes } from "./schema.ts";
import { parseMemorySize } from "./units.ts";

export function resolveGpuEnabled(requested: "auto" | boolean, detected: boolean): boolean {
  return requested === "auto" ? detected : requested;
}

function numberOrUndefined(value: string | number | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

function bytesOrUndefined(value: string | number | undefined): number | undefined {
  return value === undefined ? undefined : parseMemorySize(value);
}

/**
 * The layout of one node's block of host ports: Ray's own listeners first, its worker port
 * range after them. Block `index` starts at base + index × per_node.
 */
export function pinnedPortsOf(base: number, perNode: number, index: number): PinnedRayPorts {
  const start = base + index * perNode;
  return {
    nodeManagerPort: start,
    objectManagerPort: start + 1,
    runtimeEnvAgentPort: start + 2,
    dashboardAgentGrpcPort: start + 3,
    dashboardAgentListenPort: start + 4,
    metricsExportPort: start + 5,
    dashboardMetricsPort: start + 6,
    autoscalerMetricsPort: start + 7,
    minWorkerPort: start + blockPortsBeforeWorkers,
    maxWorkerPort: start + perNode - 1,
  };
}

/** A node's forwarder to the head's GCS on the host network: the block's ninth port (the eighth and ninth were spare). */
export function gcsProxyPortOf(base: number, perNode: number, index: number): number {
  return base + index * perNode + 8;
}

export function pinnedPortList(p: PinnedRayPorts): number[] {
  return [
    p.nodeManagerPort,
    p.objectManagerPort,
    p.runtimeEnvAgentPort,
    p.dashboardAgentGrpcPort,
    p.dashboardAgentListenPort,
    p.metricsExportPort,
    p.dashboardMetricsPort,
    p.autoscalerMetricsPort,
    ...portRange(p.minWorkerPort, p.maxWorkerPort),
  ];
}

export function rayNodesOf(config: Config, nodes: Nodes, gpuEnabled: boolean, hostName: string): RayNode[] {
  const { cpu, gpu, workers, host_ports: block } = config.services.ray;
  const mode = config.network.mode;
  const list: RayNode[] = [];
  const add = (node: Omit<RayNode, "name" | "whitelisted" | "pinned" | "workerPorts" | "gcsProxyPort">) => {
    const name = nodeName(node.service, mode, hostName);
    const pinned = mode === "host" ? pinnedPortsOf(block.base, block.per_node, list.length) : undefined;
    const workerPorts = pinned ? { min: pinned.minWorkerPort, max: pinned.maxWorkerPort } : { ...bridgeWorkerPorts };
    const gcsProxyPort = pinned ? gcsProxyPortOf(block.base, block.per_node, list.length) : bridgeGcsProxyPort;
    list.push({ ...node, name, pinned, workerPorts, gcsProxyPort, whitelisted: node.ports !== undefined && whitelists(nodes.head_whitelist, name) });
  };
  if (cpu.enabled) {
    add({
      service: "ray-cpu",
      kind: "cpu",
      image: cpu.image,
      cpus: numberOrUndefined(cpu.cpus),
      memory: cpu.memory,
      shmSize: cpu.shm_size,
      objectStoreMemory: bytesOrUndefined(cpu.object_store_memory),
      ports: { head: cpu.head_port, dashboard: cpu.dashboard_port, client: cpu.client_port },
    });
  }
  if (gpuEnabled) {
    add({
      service: "ray-gpu",
      kind: "gpu",
      image: gpu.image,
      cpus: numberOrUndefined(gpu.cpus),
      memory: gpu.memory,
      shmSize: gpu.shm_size,
      objectStoreMemory: bytesOrUndefined(gpu.object_store_memory),
      gpus: gpu.gpus,
      ports: { head: gpu.head_port, dashboard: gpu.dashboard_port, client: gpu.client_port },
    });
  }
  // Extra workers share the CPU node's image and limits; they are never head, so they have no
  // head ports. Each is its own service, so its name is stable and readable (ray-worker-2).
  for (let i = 1; i <= workers; i++) {
    add({
      service: `ray-worker-${i}`,
      kind: "cpu",
      image: cpu.image,
      cpus: numberOrUndefined(cpu.cpus),
      memory: cpu.memory,
      shmSize: cpu.shm_size,
      objectStoreMemory: bytesOrUndefined(cpu.object_store_memory),
    });
  }
  return list;
}

/** The cluster test's worker: the four configured ports, and Ray's agents on the four after the object manager. */
export function testWorkerPinnedPorts(worker: Config["cluster_test"]["worker"]): PinnedRayPorts {
  const om = worker.object_manager_port;
  return {
    nodeManagerPort: worker.node_manager_port,
    objectManagerPort: om,
    runtimeEnvAgentPort: om + 1,
    dashboardAgentGrpcPort: om + 2,
    dashboardAgentListenPort: om + 3,
    metricsExportPort: om + 4,
    dashboardMetricsPort: om + 5,
    autoscalerMetricsPort: om + 6,
    minWorkerPort: worker.min_worker_port,
    maxWorkerPort: worker.max_worker_port,
  };
}

function clusterTestOf(config: Config): ClusterTest {
  const { subnet, timeout, worker } = config.cluster_test;
  const pinned = testWorkerPinnedPorts(worker);
  return {
    subnet,
    timeout,
    worker: {
      nodeManagerPort: pinned.nodeManagerPort,
      objectManagerPort: pinned.objectManagerPort,
      minWorkerPort: pinned.minWorkerPort,
      maxWorkerPort: pinned.maxWorkerPort,
      shmSize: worker.shm_size,
      pinned,
      ports: pinnedPortList(pinned),
    },
  };
}

export interface HostFacts {
  gpuDetected: boolean;
  /** CPUs of this host (as Docker counts them); undefined skips the over-subscription warning. */
  hostCpus?: number;
  /** This machine's short hostname, for `host.name`'s default. */
  hostname: string;
}

/** A hostname made into a valid `host.name`: lowercase, the first label, only letters, digits and '-'. */
export function hostNameOf(hostname: string): string {
  const label = hostname
    .split(".")[0]!
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63);
  return label === "" ? "localhost" : label;
}

/**
 * The Ray nodes' CPU claims together, when they exceed the host: Ray schedules by --num-cpus,
 * so it would start more tasks at once than there are CPUs. A node without a limit claims all
 * of them (Ray counts the host's CPUs).
 */
export function cpuOversubscription(nodes: RayNode[], hostCpus: number): string | undefined {
  const claims = nodes.map((n) => ({ service: n.service, cpus: n.cpus ?? hostCpus, limited: n.cpus !== undefined }));
  const total = claims.reduce((sum, c) => sum + c.cpus, 0);
  if (total <= hostCpus) return undefined;
  const list = claims.map((c) => `${c.service} ${c.cpus}${c.limited ? "" : " (no limit)"}`).join(", ");
  const knobs = [
    ...new Set(nodes.map((n) => `services.ray.${n.kind}.cpus`)),
    ...(nodes.some((n) => n.service.startsWith("ray-worker-")) ? ["services.ray.workers"] : []),
  ];
  return `the Ray nodes here claim ${total} CPUs (${list}) on a host with ${hostCpus}: Ray would run more tasks at once than the host has CPUs; lower ${knobs.join(" or ")} so they add up to ${hostCpus} or less`;
}

export function normalise(config: Config, nodes: Nodes, host: HostFacts): Model {
  const requested = config.services.ray.gpu.enabled;
  const gpuEnabled = resolveGpuEnabled(requested, host.gpuDetected);
  const hostName = config.host.name ?? hostNameOf(host.hostname);
  const rayNodes = rayNodesOf(config, nodes, gpuEnabled, hostName);
  const warnings: string[] = [];
  if (requested === true && !host.gpuDetected) {
    warnings.push(
      "services.ray.gpu.enabled is true but `nvidia-smi -L` lists no GPU on this host; ray-gpu will fail to start here unless the NVIDIA runtime is present",
    );
  }
  const oversubscribed = host.hostCpus === undefined ? undefined : cpuOversubscription(rayNodes, host.hostCpus);
  if (oversubscribed) warnings.push(oversubscribed);
  for (const node of rayNodes.filter((n) => n.ports)) {
    if (!/:[^/]+$/.test(node.image) || node.image.endsWith(":latest")) {
      warnings.push(`${node.service} image ${node.image} is not pinned to a version; a Ray client and cluster of different versions fail in confusing ways`);
    }
  }
  const mismatch = rayVersionMismatch(rayNodes.filter((n) => n.ports).map((n) => ({ service: n.service, image: n.image })));
  if (mismatch) warnings.push(mismatch);
  const plain = plainHttpWarning(config, nodes);
  if (plain) warnings.push(plain);
  return {
    config,
    nodes,
    project: { name: config.project.name },
    network: { mode: config.network.mode, subnet: config.network.subnet, bindAddress: config.network.bind_address },
    host: { name: hostName, address: config.host.address },
    clusterTest: clusterTestOf(config),
    gpu: { requested, detected: host.gpuDetected, enabled: gpuEnabled },
    rayNodes,
    election: {
      whitelist: nodes.head_whitelist,
      headAddress: nodes.head_address,
      url: electionUrlOf(config, nodes),
      pin: nodes.health_service.pin,
      timeout: nodes.health_service.timeout,
      leaseTtl: config.services.health.lease_ttl,
    },
    gcs: gcsStoreOf(config),
    warnings,
  };
}

/**
 * Where heads keep the GCS: this stack's Redis by its service name (bridge), or by the
 * address its port is published on (host networking: Ray runs on the host's network), or
 * the coordinator's Redis a member was given by `cslr join`.
 */
export function gcsStoreOf(config: Config): GcsStore | undefined {
  const { gcs_store: given, gcs_namespace: namespace } = config.services.ray;
  const store = given ?? (config.services.redis.enabled ? "redis" : "memory");
  const ns = namespace ?? config.project.name;
  if (store === "memory") return undefined;
  if (store !== "redis") {
    const address = redisStoreAddress(store);
    return address ? { redis: address, namespace: ns } : undefined;
  }
  if (!config.services.redis.enabled) return undefined;
  if (config.network.mode === "bridge") return { redis: "ray-redis:6379", namespace: ns };
  const bind = config.network.bind_address;
  return { redis: `${bind === "0.0.0.0" ? "127.0.0.1" : bind}:${config.services.redis.port}`, namespace: ns };
}

/** Plain HTTP to the election service: allowed when asked for, never silent. */
function plainHttpWarning(config: Config, nodes: Nodes): string | undefined {
  if (config.services.health.enabled && !config.services.health.tls) {
    return "services.health.tls is false: the election service speaks plain HTTP, so anyone on the network can read the cluster token and node keys, and answer in its place";
  }
  if (!config.services.health.enabled && nodes.head_address === null && nodes.health_service.url.startsWith("http:")) {
    return `health_service.url ${nodes.health_service.url} is plain HTTP: anyone on the network can read the cluster token and node keys, and answer in the coordinator's place`;
  }
  return undefined;
}

/**
 * The election service's URL. When this host runs it, its scheme is the service's
 * (services.health.tls): a nodes.yaml saying http://health:8080 still gets HTTPS unless
 * plain HTTP was asked for in config.yaml.
 */
function electionUrlOf(config: Config, nodes: Nodes): string {
  const url = nodes.health_service.url;
  if (!config.services.health.enabled) return url;
  return url.replace(/^https?:/, config.services.health.tls ? "https:" : "http:");
}

/** `rayproject/ray:2.60.0-py311-gpu` → `2.60.0`; undefined when the tag names no version. */
export function rayVersionOfImage(image: string): string | undefined {
  const tag = /:([^/:]+)$/.exec(image)?.[1];
  return tag ? /^v?(\d+\.\d+\.\d+)/.exec(tag)?.[1] : undefined;
}

/**
 * Ray nodes of different Ray versions cannot form one cluster (Ray refuses a node or a client
 * of another version): a warning naming both, when the images' tags say so.
 */
export function rayVersionMismatch(nodes: { service: string; image: string }[]): string | undefined {
  const versioned = nodes.map((n) => ({ ...n, version: rayVersionOfImage(n.image) })).filter((n) => n.version !== undefined);
  const first = versioned[0];
  const other = versioned.find((n) => n.version !== first?.version);
  if (!first || !other) return undefined;
  return `Ray versions differ between nodes: ${first.service} runs ${first.version} (${first.image}), ${other.service} ${other.version} (${other.image}); Ray nodes of different versions cannot form one cluster: use one version for every node`;
}
