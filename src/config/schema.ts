/**
 * The one source of truth for config.yaml and nodes.yaml: validation, defaults, the JSON
 * Schema (`cslr schema`) and docs/configuration.md's reference all come from these schemas.
 */
import { isIP } from "node:net";
import { z } from "./zod.ts";
import { isGcsStore, isHostname, isHttpUrl, isIpv4Cidr, isUnadvertisable, parseHostPort, parseIpv4 } from "./net.ts";
import { pinnedVersions } from "./versions.ts";

export { isHostname };
import { parseMemorySize } from "./units.ts";

// ---------------------------------------------------------------- scalars

export const hostname = z.string().refine(isHostname, { message: "not a valid hostname; expected letters, digits, '-' and '.' (RFC 1123)" });

export const port = z
  .int({ message: "not a port; expected an integer from 1 to 65535" })
  .min(1, { message: "port out of range; expected an integer from 1 to 65535" })
  .max(65535, { message: "port out of range; expected an integer from 1 to 65535" });

/** `512m`, `8g`, `16G`, `1.5g` or a byte count. Kept as written; compose understands it. */
export const memorySize = z
  .union([z.int().positive(), z.string()])
  .refine((v) => parseMemorySize(v) !== undefined, {
    message: "not a memory size; expected bytes or a number with a unit b/k/m/g/t, like 512m or 8g",
  })
  .meta({ description: "Bytes, or a number with a unit b/k/m/g/t (512m, 8g, 16G)" });

/** `4`, `"4"` or `2.5` CPUs, more than zero. */
export const cpus = z
  .union([z.number(), z.string()])
  .refine((v) => Number.isFinite(Number(v)) && String(v).trim() !== "" && Number(v) > 0, {
    message: "not a CPU count; expected a number greater than 0, like 4 or 2.5",
  })
  .meta({ description: "Number of CPUs, greater than 0" });

export const cidr = z.string().refine(isIpv4Cidr, { message: "not an IPv4 CIDR; expected a network like 172.28.0.0/16" });

/** An address of this host to publish ports on (Docker's `host_ip`). */
export const bindAddress = z.string().refine((v) => isIP(v) !== 0, {
  message: "not an IP address; expected 0.0.0.0 (every address), 127.0.0.1 (this machine only) or one of this host's addresses",
});

/**
 * An image reference. Pin it to a version: a Ray client and cluster of different versions fail
 * confusingly, so an unpinned or `:latest` image is a warning (config/normalise.ts), not an error.
 */
export const image = z
  .string()
  .min(1, { message: "empty image; expected an image reference like rayproject/ray:2.60.0" })
  .refine((v) => !/\s/.test(v), { message: "image contains whitespace; expected an image reference like rayproject/ray:2.60.0" })
  // A reference starts with a letter or digit; one starting with '-' would reach docker as an option.
  .refine((v) => v === "" || /^[A-Za-z0-9]/.test(v), {
    message: "image does not start with a letter or digit; expected an image reference like rayproject/ray:2.60.0",
  })
  .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), { message: "image contains a control character; expected an image reference like rayproject/ray:2.60.0" });

export const projectName = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, {
  message: "not a compose project name; expected lowercase letters, digits, '-' and '_', starting with a letter or digit",
});

/** A host folder for a service's data; relative paths are taken from config.yaml's folder. */
const dataPath = z
  .string()
  .min(1, { message: "empty path; expected a host folder, or leave the key out for a named volume" })
  .refine((v) => !/[\n\r]/.test(v), { message: "path contains a line break; expected a host folder" })
  .optional();

/** A timeout in seconds: 0.1 s to 1 h (a value outside makes no sense and would only fail later). */
const seconds = z
  .number({ message: "not a duration; expected seconds from 0.1 to 3600" })
  .min(0.1, { message: "too short; expected seconds from 0.1 to 3600" })
  .max(3600, { message: "too long; expected seconds from 0.1 to 3600" });

// ---------------------------------------------------------------- services

const rayNodeFields = {
  image: image,
  cpus: cpus
    .optional()
    .meta({ description: "CPU limit of the container, at most this host's CPU count; also Ray's --num-cpus (default: no limit, Ray counts the host's CPUs)" }),
  memory: memorySize.optional().meta({ description: "Memory limit of the container" }),
  shm_size: memorySize.meta({
    description: "Size of /dev/shm; Ray's object store lives there (Docker's default is 64 MB)",
  }),
  object_store_memory: memorySize.optional().meta({ description: "Ray's object store size (--object-store-memory); default: Ray's own (30% of memory)" }),
  head_port: port.meta({ description: "Ray GCS port when this node is head (same inside and on the host)" }),
  dashboard_port: port.meta({ description: "Ray dashboard port when this node is head" }),
  client_port: port.meta({ description: "Ray client server port (ray://HOST:PORT) when this node is head" }),
};

export const rayCpuSchema = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: "Run the ray-cpu node" }),
    ...rayNodeFields,
    image: image.default(`rayproject/ray:${pinnedVersions.ray}`).meta({ description: "Ray image; pin the version clients use" }),
    shm_size: rayNodeFields.shm_size.default("2g"),
    head_port: rayNodeFields.head_port.default(6379),
    dashboard_port: rayNodeFields.dashboard_port.default(8265),
    client_port: rayNodeFields.client_port.default(10001),
  })
  .prefault({});

export const gpuEnabled = z
  .union([z.literal("auto"), z.boolean()], {
    message: "not a GPU switch; expected auto, true or false",
  })
  .default("auto")
  .meta({ description: "auto: on when `nvidia-smi -L` lists a GPU" });

export const rayGpuSchema = z
  .strictObject({
    enabled: gpuEnabled,
    ...rayNodeFields,
    image: image.default(`rayproject/ray:${pinnedVersions.ray}-gpu`).meta({ description: "Ray image with CUDA" }),
    gpus: z
      .union([z.literal("all"), z.int().positive({ message: "not a GPU count; expected all or a whole number greater than 0" })], {
        message: "not a GPU count; expected all or a whole number greater than 0",
      })
      .default("all")
      .meta({ description: "GPUs reserved for the container: all, or a count" }),
    shm_size: rayNodeFields.shm_size.default("8g"),
    head_port: rayNodeFields.head_port.default(6380),
    dashboard_port: rayNodeFields.dashboard_port.default(8266),
    client_port: rayNodeFields.client_port.default(10002),
  })
  .prefault({});

export const raySchema = z
  .strictObject({
    cpu: rayCpuSchema,
    gpu: rayGpuSchema,
    auth: z.enum(["token", "none"], { message: "not an authentication mode; expected token or none" }).default("token").meta({
      description:
        "token: Ray's token authentication (Ray >= 2.52), with RAY_AUTH_TOKEN from .env, so the dashboard's Jobs API runs no code for strangers; none: open",
    }),
    workers: z
      .int({ message: "not a worker count; expected a whole number of workers from 0 to 64" })
      .min(0, { message: "not a worker count; expected a whole number of workers from 0 to 64" })
      .max(64, { message: "too many workers; expected at most 64 on one host" })
      .default(0)
      .meta({ description: "Extra CPU workers (never head) on this host: services ray-worker-1..N" }),
    gcs_store: z
      .string()
      .optional()
      .refine((v) => v === undefined || isGcsStore(v), {
        message:
          "not a GCS store; expected redis (this stack's Redis), memory (Ray's own: a new head starts a new cluster) or redis://HOST:PORT (the coordinator's Redis; cslr join writes it)",
      })
      .meta({
        description:
          "Where the head's GCS keeps the cluster's state (default: redis when services.redis runs here, else memory): redis (services.redis, so a new head takes the cluster over: jobs, actors and workers survive a head change), memory (a new head is a new cluster), or redis://HOST:PORT (the coordinator's, on a member)",
      }),
    gcs_namespace: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, { message: "not a namespace; expected 1 to 64 letters, digits, '_' or '-'" })
      .optional()
      .meta({ description: "The cluster's key prefix in that Redis (default: the project name; cslr join writes the coordinator's)" }),
    host_ports: z
      .strictObject({
        base: port.default(20000).meta({ description: "First port of the Ray nodes' blocks: ray-cpu, then ray-gpu, then each worker" }),
        per_node: z
          .int({ message: "not a block size; expected a whole number of ports from 20 to 1000" })
          .min(20, { message: "block too small; expected at least 20 ports per node (10 of Ray's own, 10 or more for its workers)" })
          .max(1000, { message: "block too large; expected at most 1000 ports per node" })
          .default(300)
          .meta({
            description:
              "Ports per Ray node: node manager, object manager, agents and metrics, then its worker port range (Ray needs 2 per CPU + 16; 300 fits 137 CPUs)",
          }),
      })
      .prefault({})
      .meta({ description: "Pinned ports of Ray nodes on the host network (network.mode: host)" }),
  })
  .prefault({});

export const healthSchema = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: "Run the election service here (off when another host runs it)" }),
    image: image.default("debian:12.11-slim").meta({ description: "glibc image the cslr binary runs in" }),
    port: port.default(8888).meta({ description: "Host port of the health/election service" }),
    tls: z.boolean().default(true).meta({
      description: "Speak HTTPS with the certificate `cslr init` makes (clients pin it); false: plain HTTP, tokens readable on the network (a warning)",
    }),
    binary: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "Linux cslr binary mounted into the health and Ray containers (default: the running binary on Linux)" }),
    lease_ttl: z
      .number({ message: "not a duration; expected seconds from 1 to 3600" })
      .min(1, { message: "lease TTL too short; expected seconds from 1 to 3600" })
      .max(3600, { message: "lease TTL too long; expected seconds from 1 to 3600" })
      .default(30)
      .meta({ description: "Seconds a head lease lasts without a renewal; a head cut off from the service stops itself at 2/3 of it" }),
  })
  .prefault({});

export const redisSchema = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: "Run Redis (password from .env, append-only file on)" }),
    image: image.default("redis:7.4.1"),
    port: port.default(6381).meta({ description: "Host port (Redis listens on 6379 inside)" }),
    data_path: dataPath.meta({ description: "Host folder for Redis data (default: a named volume)" }),
  })
  .prefault({});

export const postgresSchema = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: "MLflow's backend store on PostgreSQL (off: SQLite in the artifacts volume)" }),
    image: image.default(`postgres:${pinnedVersions.postgres}`).meta({ description: "PostgreSQL image; a major version (its data format) pinned" }),
    user: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, { message: "not a PostgreSQL role name; expected lowercase letters, digits and '_'" })
      .default("mlflow")
      .meta({ description: "PostgreSQL role MLflow connects as" }),
    database: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, { message: "not a PostgreSQL database name; expected lowercase letters, digits and '_'" })
      .default("mlflow")
      .meta({ description: "PostgreSQL database of MLflow's runs" }),
    data_path: dataPath.meta({ description: "Host folder for PostgreSQL data (default: a named volume)" }),
  })
  .prefault({});

export const mlflowSchema = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: "Run the MLflow tracking server" }),
    image: image.default(`ghcr.io/mlflow/mlflow:v${pinnedVersions.mlflow}-full`).meta({
      description: "Needs PostgreSQL's drivers (the -full variant has them)",
    }),
    port: port.default(5000).meta({ description: "MLflow UI and API port (host = container)" }),
    artifacts_path: dataPath.meta({ description: "Host folder for MLflow artifacts (default: a named volume)" }),
    allowed_hosts: z
      .array(z.string().regex(/^[A-Za-z0-9.*:\[\]-]+$/, { message: "not a host pattern; expected a name, an address or a pattern like lab.example.org:*" }))
      .default([])
      .meta({ description: "More Host headers MLflow accepts, beyond this host, its container name and private addresses (its DNS-rebinding check)" }),
    tracking_uri: z
      .string()
      .refine(isHttpUrl, {
        message: "not an http(s) URL; expected something like http://10.0.0.5:5000 (no spaces, control characters, credentials, query or fragment)",
      })
      .optional()
      .meta({ description: "MLflow as code on the cluster reaches it (default: this stack's MLflow); cslr join sets the coordinator's" }),
    postgres: postgresSchema,
  })
  .prefault({});

export const marimoSchema = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: "Run the Marimo notebook server (token from .env)" }),
    image: image.default(`ghcr.io/marimo-team/marimo:${pinnedVersions.marimo}-sql`),
    port: port.default(8080).meta({ description: "Marimo port (host = container)" }),
    notebooks_path: dataPath.meta({ description: "Host folder for notebooks (default: a named volume)" }),
  })
  .prefault({});

export const servicesSchema = z
  .strictObject({
    health: healthSchema,
    ray: raySchema,
    redis: redisSchema,
    mlflow: mlflowSchema,
    marimo: marimoSchema,
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    project: z.strictObject({ name: projectName.default("cslr").meta({ description: "Compose project name" }) }).prefault({}),
    network: z
      .strictObject({
        mode: z
          .enum(["bridge", "host"], { message: "not a network mode; expected bridge (one workstation) or host (several workstations)" })
          .default("bridge")
          .meta({ description: "bridge: one workstation; host: Ray nodes on the host network with pinned ports, needed for several workstations" }),
        subnet: cidr.optional().meta({
          description: "Subnet of ray-network (the services' bridge network); default: Docker picks a free one, so projects on one host never collide",
        }),
        bind_address: bindAddress.default("0.0.0.0").meta({
          description: "Host address the published ports bind to: 0.0.0.0 every address, IPv4 and IPv6 (Docker's default); 127.0.0.1 this machine only",
        }),
      })
      .prefault({}),
    host: z
      .strictObject({
        name: z
          .string()
          .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, { message: "not a host name; expected lowercase letters, digits and '-', like ws2" })
          .optional()
          .meta({ description: "This workstation's name in the cluster (default: the machine's short hostname)" }),
        address: z
          .string()
          .refine((v) => v === "auto" || parseIpv4(v) !== undefined, { message: "not an address; expected auto or an IPv4 address like 10.0.0.5" })
          .refine((v) => v === "auto" || parseIpv4(v) === undefined || !isUnadvertisable(v), {
            message:
              "not an address other workstations can reach (unspecified, loopback or link-local); expected auto or this host's LAN address like 10.0.0.5",
          })
          .default("auto")
          .meta({ description: "The address other workstations reach this one by; auto: the source address of this host's route to the coordinator" }),
      })
      .prefault({}),
    services: servicesSchema,
    cluster_test: z
      .strictObject({
        subnet: cidr.optional().meta({ description: "Subnet of the isolated test network; default: Docker picks a free one" }),
        timeout: seconds.default(60).meta({ description: "Seconds `cslr test` waits for the test worker to join" }),
        worker: z
          .strictObject({
            // Real Ray's head dials a worker back on these; pinned and published one to one.
            node_manager_port: port.default(6700).meta({ description: "Test worker's Ray node manager port (published)" }),
            object_manager_port: port.default(6701).meta({ description: "Test worker's Ray object manager port (published)" }),
            min_worker_port: port.default(6710).meta({ description: "First port of the test worker's Ray worker range (published)" }),
            max_worker_port: port.default(6719).meta({ description: "Last port of the test worker's Ray worker range (published)" }),
            shm_size: memorySize.default("1g").meta({ description: "Size of the test worker's /dev/shm" }),
          })
          .prefault({}),
      })
      .prefault({}),
  })
  .meta({ title: "cslr config.yaml" });

// ---------------------------------------------------------------- nodes.yaml

/** `host:port`, as Ray's --address takes it. */
export const hostPort = z.string().refine((v) => parseHostPort(v) !== undefined, {
  message: "not host:port; expected a hostname or IP and a port, like 10.0.0.5:6379",
});

export const nodesSchema = z
  .strictObject({
    head_whitelist: z
      .array(hostname, { message: "expected a list of node names" })
      .min(1, { message: "empty whitelist; expected at least one node that may become head" })
      .meta({ description: "Nodes that may become the Ray head (node names; `name.host` for one host's node)" }),
    head_address: hostPort.nullable().default(null).meta({ description: "Fixed head host:port; skips the election (every node joins it)" }),
    health_service: z
      .strictObject({
        url: z
          .string()
          .refine(isHttpUrl, {
            message: "not an http(s) URL; expected something like http://health:8080 (no spaces, control characters, credentials, query or fragment)",
          })
          .default("http://health:8080")
          .meta({ description: "Election service URL as Ray nodes reach it (when this host runs it, its scheme follows services.health.tls)" }),
        pin: z
          .string()
          .regex(/^[0-9a-f]{64}$/, { message: "not a certificate pin; expected the 64 hex digits of the SHA-256 in the join token (cslr1.<pin>.<secret>)" })
          .optional()
          .meta({ description: "SHA-256 of the election service's certificate, for an https url on another host (cslr join writes it)" }),
        timeout: seconds
          .default(10)
          .meta({ description: "Seconds one request to the election service may take; nodes retry, never fall back to a head of their own" }),
      })
      .prefault({}),
  })
  .meta({ title: "cslr nodes.yaml" });

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type NodesInput = z.input<typeof nodesSchema>;
export type Nodes = z.output<typeof nodesSchema>;
