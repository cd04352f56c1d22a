/** A hand-built Model (what loadProject returns) for the pure status modules. */
import type { Model, RayNode } from "../../src/config/model.ts";
import { configSchema, nodesSchema, type ConfigInput } from "../../src/config/schema.ts";

export function modelFixture(opts: { config?: ConfigInput; workers?: number; headAddress?: string | null } = {}): Model {
  const config = configSchema.parse(opts.config ?? {});
  const nodes = nodesSchema.parse({ head_whitelist: ["lab-cpu"], head_address: opts.headAddress ?? null });
  const cpu = config.services.ray.cpu;
  const rayNodes: RayNode[] = [
    {
      service: "ray-cpu",
      kind: "cpu",
      name: "lab-cpu",
      image: cpu.image,
      shmSize: cpu.shm_size,
      ports: { head: cpu.head_port, dashboard: cpu.dashboard_port, client: cpu.client_port },
      replicas: 1,
      whitelisted: true,
    },
  ];
  if (opts.workers) {
    rayNodes.push({ service: "ray-worker", kind: "cpu", image: cpu.image, shmSize: cpu.shm_size, replicas: opts.workers, whitelisted: false });
  }
  return {
    config,
    nodes,
    project: { name: config.project.name },
    network: { subnet: config.network.subnet },
    clusterTest: { subnet: config.cluster_test.subnet },
    gpu: { requested: "auto", detected: false, enabled: false },
    rayNodes,
    election: {
      whitelist: nodes.head_whitelist,
      headCandidates: [],
      headAddress: nodes.head_address,
      url: nodes.health_service.url,
      timeout: nodes.health_service.timeout,
      leaseTtl: config.services.health.lease_ttl,
    },
    warnings: [],
  };
}
