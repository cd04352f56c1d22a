/**
 * The cluster test's own settings, read from the model with defaults.
 *
 * The config.yaml fields (defaults in src/config/schema.ts):
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

export function clusterTestSettings(model: Model): ClusterTestSettings {
  const { worker, timeout, subnet } = model.config.cluster_test;
  return {
    subnet,
    worker: {
      nodeManagerPort: worker.node_manager_port,
      objectManagerPort: worker.object_manager_port,
      minWorkerPort: worker.min_worker_port,
      maxWorkerPort: worker.max_worker_port,
      shmSize: worker.shm_size,
    },
    timeout,
  };
}
