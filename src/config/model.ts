/**
 * The normalised model every renderer and command works from: defaults applied, GPU `auto`
 * resolved, Ray nodes listed with their names and ports as data (never hard-coded in templates).
 */
import type { Config, Nodes } from "./schema.ts";

export interface RayNodePorts {
  /** GCS port when head; the same number inside the container and on the host. */
  head: number;
  dashboard: number;
  client: number;
}

/**
 * The ports a Ray node pins on the host network (network.mode: host), one block per node:
 * two Ray nodes on one host would otherwise collide (the dashboard agent's 52365, for one).
 */
export interface PinnedRayPorts {
  nodeManagerPort: number;
  objectManagerPort: number;
  runtimeEnvAgentPort: number;
  dashboardAgentGrpcPort: number;
  dashboardAgentListenPort: number;
  metricsExportPort: number;
  /** A head's dashboard and autoscaler metrics (no flag: Ray reads DASHBOARD_METRIC_PORT and AUTOSCALER_METRIC_PORT). */
  dashboardMetricsPort: number;
  autoscalerMetricsPort: number;
  minWorkerPort: number;
  maxWorkerPort: number;
}

export interface RayNode {
  /** Compose service: ray-cpu, ray-gpu, ray-worker-1, ... */
  service: string;
  kind: "cpu" | "gpu";
  /** Node name in the election and in `status`: the service, plus `.host` with several workstations. */
  name: string;
  image: string;
  cpus?: number;
  memory?: string | number;
  shmSize: string | number;
  objectStoreMemory?: number;
  /** GPUs reserved through the NVIDIA device request (gpu kind only). */
  gpus?: "all" | number;
  /** Head ports (GCS, dashboard, client); undefined for workers, which are never head. */
  ports?: RayNodePorts;
  /** Pinned ports on the host network; undefined in bridge networking (each container has its own address). */
  pinned?: PinnedRayPorts;
  /** Ray's worker port range, pinned in every layout (Ray's default 10002–19999 holds ray-gpu's client port). */
  workerPorts: { min: number; max: number };
  /** Where this node's agent forwards to the current head's GCS (its raylet's GCS address, followed across head changes). */
  gcsProxyPort: number;
  whitelisted: boolean;
}

/** `cslr test`: its isolated network, how long it waits, and the test worker's pinned ports. */
export interface ClusterTest {
  /** Undefined: Docker picks a free subnet. */
  subnet?: string;
  /** Seconds `cslr test` waits for the health service and the worker to show up. */
  timeout: number;
  worker: {
    nodeManagerPort: number;
    objectManagerPort: number;
    minWorkerPort: number;
    maxWorkerPort: number;
    shmSize: string | number;
    /** What the worker pins: the configured ports, and Ray's agents right after the object manager. */
    pinned: PinnedRayPorts;
    /** Every host port the worker holds while `cslr test` runs: real Ray's head dials the worker back on them. */
    ports: number[];
  };
}

export interface Model {
  config: Config;
  nodes: Nodes;
  project: { name: string };
  /**
   * ray-network's subnet (undefined: Docker picks a free one) and the host address published
   * ports bind to ("0.0.0.0": Docker's default, every address, IPv4 and IPv6).
   */
  network: { mode: "bridge" | "host"; subnet?: string; bindAddress: string };
  /** This workstation: its name in the cluster and the address others reach it by ("auto": detected at run time). */
  host: { name: string; address: string | "auto" };
  clusterTest: ClusterTest;
  gpu: { requested: "auto" | boolean; detected: boolean; enabled: boolean };
  rayNodes: RayNode[];
  election: {
    whitelist: string[];
    headAddress: string | null;
    /** The service's URL as this host's Ray nodes reach it; https unless plain HTTP was asked for. */
    url: string;
    /** The certificate pin from nodes.yaml (a member's); the coordinator's comes from its certificate file. */
    pin?: string;
    timeout: number;
    leaseTtl: number;
  };
  /**
   * Ray's GCS fault tolerance (services.ray.gcs_store): the Redis every head of this cluster
   * keeps the cluster's state in, as Ray nodes here reach it, and the cluster's key prefix
   * there. Undefined: `memory`, a new head starts a new cluster.
   */
  gcs?: GcsStore;
  /** Things worth telling the user that do not stop generation. */
  warnings: string[];
}

export interface GcsStore {
  /** host:port of the Redis (RAY_REDIS_ADDRESS). */
  redis: string;
  /** RAY_external_storage_namespace: stable across restarts, the same on every workstation. */
  namespace: string;
}
