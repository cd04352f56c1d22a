/**
 * The normalised model every renderer and command works from: defaults applied, GPU `auto`
 * resolved, Ray nodes listed with their names and ports as data (never hard-coded in templates).
 */
import type { Config, Nodes } from "./schema.ts";

export type RayServiceName = "ray-cpu" | "ray-gpu" | "ray-worker";

export interface RayNodePorts {
  /** GCS port when head; the same number inside the container and on the host. */
  head: number;
  dashboard: number;
  client: number;
}

export interface RayNode {
  service: RayServiceName;
  kind: "cpu" | "gpu";
  /**
   * Fixed node name (the container hostname). Undefined for replicated workers, whose
   * container hostnames (IDs) keep them distinct.
   */
  name?: string;
  image: string;
  cpus?: number;
  memory?: string | number;
  shmSize: string | number;
  /** GPUs reserved through the NVIDIA device request (gpu kind only). */
  gpus?: "all" | number;
  /** Published ports; undefined for workers that can never be head. */
  ports?: RayNodePorts;
  replicas: number;
  whitelisted: boolean;
}

/** `cslr test`: its isolated network, how long it waits, and the test worker's pinned ports. */
export interface ClusterTest {
  subnet: string;
  /** Seconds `cslr test` waits for the health service and the worker to show up. */
  timeout: number;
  worker: {
    nodeManagerPort: number;
    objectManagerPort: number;
    minWorkerPort: number;
    maxWorkerPort: number;
    shmSize: string | number;
    /** Every port the worker publishes one to one: real Ray's head dials the worker back on them. */
    ports: number[];
  };
}

/** A whitelisted node and where its head port is, for the entrypoint's fallback probe. */
export interface HeadCandidate {
  name: string;
  address: string;
  port: number;
}

export interface Model {
  config: Config;
  nodes: Nodes;
  project: { name: string };
  network: { subnet: string };
  clusterTest: ClusterTest;
  gpu: { requested: "auto" | boolean; detected: boolean; enabled: boolean };
  rayNodes: RayNode[];
  election: {
    whitelist: string[];
    headCandidates: HeadCandidate[];
    headAddress: string | null;
    url: string;
    timeout: number;
    leaseTtl: number;
  };
  /** Things worth telling the user that do not stop generation. */
  warnings: string[];
}
