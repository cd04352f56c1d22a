/**
 * A Model for the cluster-test tests, built from the real schemas. The ray node list mirrors
 * what src/config/normalise.ts produces for these inputs.
 * TODO(merge): build it with normalise() from src/config/normalise.ts.
 */
import type { Model, RayNode } from "../../src/config/model.ts";
import { configSchema, nodesSchema, type ConfigInput, type NodesInput } from "../../src/config/schema.ts";

export function modelFixture(configInput: ConfigInput = {}, nodesInput: NodesInput = { head_whitelist: ["ray-cpu", "ray-gpu"] }): Model {
  const config = configSchema.parse(configInput);
  const nodes = nodesSchema.parse(nodesInput);
  const { cpu, gpu, workers } = config.services.ray;
  const gpuEnabled = gpu.enabled === true;
  const rayNodes: RayNode[] = [];
  const whitelisted = (n: string) => nodes.head_whitelist.includes(n);
  if (cpu.enabled) {
    rayNodes.push({
      service: "ray-cpu", kind: "cpu", name: "ray-cpu", image: cpu.image, shmSize: cpu.shm_size,
      ports: { head: cpu.head_port, dashboard: cpu.dashboard_port, client: cpu.client_port }, replicas: 1, whitelisted: whitelisted("ray-cpu"),
    });
  }
  if (gpuEnabled) {
    rayNodes.push({
      service: "ray-gpu", kind: "gpu", name: "ray-gpu", image: gpu.image, shmSize: gpu.shm_size, gpus: gpu.gpus,
      ports: { head: gpu.head_port, dashboard: gpu.dashboard_port, client: gpu.client_port }, replicas: 1, whitelisted: whitelisted("ray-gpu"),
    });
  }
  if (workers > 0) {
    rayNodes.push({ service: "ray-worker", kind: "cpu", image: cpu.image, shmSize: cpu.shm_size, replicas: workers, whitelisted: false });
  }
  return {
    config,
    nodes,
    project: { name: config.project.name },
    network: { subnet: config.network.subnet },
    clusterTest: { subnet: config.cluster_test.subnet },
    gpu: { requested: gpu.enabled, detected: false, enabled: gpuEnabled },
    rayNodes,
    election: {
      whitelist: nodes.head_whitelist,
      headCandidates: nodes.head_whitelist.map((name) => ({ name, address: name, port: name === "ray-gpu" ? gpu.head_port : cpu.head_port })),
      headAddress: nodes.head_address,
      url: nodes.health_service.url,
      timeout: nodes.health_service.timeout,
      leaseTtl: config.services.health.lease_ttl,
    },
    warnings: [],
  };
}
