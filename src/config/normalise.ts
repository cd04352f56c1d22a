/** Pure: validated config + nodes + what the host has → the one Model the renderers use. */
import type { ClusterTest, HeadCandidate, Model, RayNode } from "./model.ts";
import { portRange } from "./net.ts";
import type { Config, Nodes } from "./schema.ts";

/** Ray's default GCS port, assumed for whitelisted nodes that are not services of this stack. */
const defaultRayHeadPort = 6379;

export function resolveGpuEnabled(requested: "auto" | boolean, detected: boolean): boolean {
  return requested === "auto" ? detected : requested;
}

function numberOrUndefined(value: string | number | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

export function rayNodesOf(config: Config, nodes: Nodes, gpuEnabled: boolean): RayNode[] {
  const { cpu, gpu, workers } = config.services.ray;
  const whitelisted = (name: string) => nodes.head_whitelist.includes(name);
  const list: RayNode[] = [];
  if (cpu.enabled) {
    list.push({
      service: "ray-cpu",
      kind: "cpu",
      name: "ray-cpu",
      image: cpu.image,
      cpus: numberOrUndefined(cpu.cpus),
      memory: cpu.memory,
      shmSize: cpu.shm_size,
      ports: { head: cpu.head_port, dashboard: cpu.dashboard_port, client: cpu.client_port },
      replicas: 1,
      whitelisted: whitelisted("ray-cpu"),
    });
  }
  if (gpuEnabled) {
    list.push({
      service: "ray-gpu",
      kind: "gpu",
      name: "ray-gpu",
      image: gpu.image,
      cpus: numberOrUndefined(gpu.cpus),
      memory: gpu.memory,
      shmSize: gpu.shm_size,
      gpus: gpu.gpus,
      ports: { head: gpu.head_port, dashboard: gpu.dashboard_port, client: gpu.client_port },
      replicas: 1,
      whitelisted: whitelisted("ray-gpu"),
    });
  }
  if (workers > 0) {
    // Extra workers share the CPU node's image and limits; they are never head, so they
    // publish no ports and keep their container IDs as distinct hostnames.
    list.push({
      service: "ray-worker",
      kind: "cpu",
      image: cpu.image,
      cpus: numberOrUndefined(cpu.cpus),
      memory: cpu.memory,
      shmSize: cpu.shm_size,
      replicas: workers,
      whitelisted: false,
    });
  }
  return list;
}

/** Where each whitelisted node's head port is; a stack service keeps its configured port even when disabled here. */
export function headCandidatesOf(config: Config, nodes: Nodes): HeadCandidate[] {
  const servicePorts: Record<string, number> = {
    "ray-cpu": config.services.ray.cpu.head_port,
    "ray-gpu": config.services.ray.gpu.head_port,
  };
  return nodes.head_whitelist.map((name) => ({ name, address: name, port: servicePorts[name] ?? defaultRayHeadPort }));
}

function clusterTestOf(config: Config): ClusterTest {
  const { subnet, timeout, worker } = config.cluster_test;
  const { node_manager_port: nodeManagerPort, object_manager_port: objectManagerPort } = worker;
  const { min_worker_port: minWorkerPort, max_worker_port: maxWorkerPort } = worker;
  return {
    subnet,
    timeout,
    worker: {
      nodeManagerPort,
      objectManagerPort,
      minWorkerPort,
      maxWorkerPort,
      shmSize: worker.shm_size,
      ports: [nodeManagerPort, objectManagerPort, ...portRange(minWorkerPort, maxWorkerPort)],
    },
  };
}

export interface HostFacts {
  gpuDetected: boolean;
}

export function normalise(config: Config, nodes: Nodes, host: HostFacts): Model {
  const requested = config.services.ray.gpu.enabled;
  const gpuEnabled = resolveGpuEnabled(requested, host.gpuDetected);
  const rayNodes = rayNodesOf(config, nodes, gpuEnabled);
  const warnings: string[] = [];
  if (requested === true && !host.gpuDetected) {
    warnings.push(
      "services.ray.gpu.enabled is true but `nvidia-smi -L` lists no GPU on this host; ray-gpu will fail to start here unless the NVIDIA runtime is present",
    );
  }
  if (nodes.health_service.url.startsWith("https:")) {
    warnings.push(
      "health_service.url is https, but the Ray entrypoint speaks plain HTTP over bash's /dev/tcp; Ray nodes will not reach it and will use the fallback election",
    );
  }
  for (const node of rayNodes) {
    if (!/:[^/]+$/.test(node.image) || node.image.endsWith(":latest")) {
      warnings.push(`${node.service} image ${node.image} is not pinned to a version; a Ray client and cluster of different versions fail in confusing ways`);
    }
  }
  return {
    config,
    nodes,
    project: { name: config.project.name },
    network: { subnet: config.network.subnet },
    clusterTest: clusterTestOf(config),
    gpu: { requested, detected: host.gpuDetected, enabled: gpuEnabled },
    rayNodes,
    election: {
      whitelist: nodes.head_whitelist,
      headCandidates: headCandidatesOf(config, nodes),
      headAddress: nodes.head_address,
      url: nodes.health_service.url,
      timeout: nodes.health_service.timeout,
      leaseTtl: config.services.health.lease_ttl,
    },
    warnings,
  };
}
