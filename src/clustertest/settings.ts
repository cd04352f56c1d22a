/**
 * The cluster test's own settings, read from the model with defaults.
 *
 * Proposed config.yaml fields (src/config/schema.ts is the lead's; until they are merged the
 * defaults below apply, and `cluster_test.worker.*` is read tolerantly):
 *
 *   cluster_test:
 *     subnet: 172.30.0.0/24
 *     worker:
 *       node_manager_port: 6700     # pinned and published: real Ray's head dials the worker back
 *       object_manager_port: 6701
 *       min_worker_port: 6710       # range published one to one
 *       max_worker_port: 6719
 *       shm_size: 1g
 *     timeout: 60                   # seconds `cslr test` waits for the test worker to join
 */
import type { Model } from "../config/model.ts";

export interface TestWorkerSettings {
  nodeManagerPort: number;
  objectManagerPort: number;
  minWorkerPort: number;
  maxWorkerPort: number;
  shmSize: string | number;
}

export interface ClusterTestSettings {
  subnet: string;
  worker: TestWorkerSettings;
  /** Seconds `cslr test` waits for the health service and the worker to show up. */
  timeout: number;
}

export const clusterTestDefaults = {
  worker: { nodeManagerPort: 6700, objectManagerPort: 6701, minWorkerPort: 6710, maxWorkerPort: 6719, shmSize: "1g" },
  timeout: 60,
} as const satisfies Omit<ClusterTestSettings, "subnet">;

/** Fields the schema may or may not have yet; read without trusting their presence. */
interface ProposedClusterTestConfig {
  worker?: {
    node_manager_port?: number;
    object_manager_port?: number;
    min_worker_port?: number;
    max_worker_port?: number;
    shm_size?: string | number;
  };
  timeout?: number;
}

export function clusterTestSettings(model: Model): ClusterTestSettings {
  const proposed = (model.config.cluster_test ?? {}) as ProposedClusterTestConfig;
  const w = proposed.worker ?? {};
  const d = clusterTestDefaults.worker;
  return {
    subnet: model.clusterTest.subnet,
    worker: {
      nodeManagerPort: w.node_manager_port ?? d.nodeManagerPort,
      objectManagerPort: w.object_manager_port ?? d.objectManagerPort,
      minWorkerPort: w.min_worker_port ?? d.minWorkerPort,
      maxWorkerPort: w.max_worker_port ?? d.maxWorkerPort,
      shmSize: w.shm_size ?? d.shmSize,
    },
    timeout: proposed.timeout ?? clusterTestDefaults.timeout,
  };
}
