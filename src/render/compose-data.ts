/**
 * Pure: Model → the view the compose template renders. Every decision (which services, which
 * ports, which secrets) is made here, so the template stays a plain picture of the YAML.
 */
import { isAbsolute, join, resolve } from "node:path";
import type { Model, PinnedRayPorts, RayNode } from "../config/model.ts";
import { needsClusterToken, needsRayToken, type SecretName } from "../config/secrets.ts";
import { electionUrlForNodes, mlflowUrlForNodes } from "../config/urls.ts";
import { joinInfoDigest } from "./join-info.ts";
import { secretReference } from "./secrets.ts";
import { bridgeAgentPorts } from "../config/ray-ports.ts";

/** Where things live inside the containers. */
export const paths = {
  cslrBinary: "/opt/cslr/bin/cslr",
  joinInfo: "/opt/cslr/join-info.json",
  pageInfo: "/opt/cslr/page.json",
  rayEntrypoint: "/opt/cslr/ray-ep.sh",
  electionState: "/var/lib/cslr",
  tlsCert: "/opt/cslr/tls/cert.pem",
  tlsKey: "/opt/cslr/tls/key.pem",
  redisData: "/data",
  postgresData: "/var/lib/postgresql/data",
  mlflowArtifacts: "/mlflow/artifacts",
  notebooks: "/notebooks",
  /** The cluster token inside a Ray container: a compose secret, made root-only by ray-ep.sh. */
  clusterTokenFile: "/run/secrets/cslr_cluster_token",
  /** The password of Redis's `ray` user, for a head's GCS: a compose secret, made root-only by ray-ep.sh. */
  gcsRedisPasswordFile: "/run/secrets/cslr_ray_redis_password",
} as const;

/**
 * The compose secret that carries the cluster token into the Ray containers (and the cluster
 * test's worker): read by compose from CSLR_CLUSTER_TOKEN in .env and copied into the container
 * as a file, never set in its environment, so neither `docker inspect` nor /proc/PID/environ of
 * any process in it shows the token.
 */
export const clusterTokenSecret = { name: "cslr_cluster_token", variable: "CSLR_CLUSTER_TOKEN" } as const;

/**
 * The compose secret that carries the password of Redis's `ray` user (RAY_REDIS_PASSWORD in
 * .env) into the Ray containers, the same way: the agent reads it and hands it to a head's
 * `ray start` only (Ray 2.60 takes it nowhere but on the GCS server's command line).
 */
export const gcsRedisPasswordSecret = { name: "cslr_ray_redis_password", variable: "RAY_REDIS_PASSWORD" } as const;

export interface PortMapping {
  target: number;
  published: number;
  /** Host address to bind (compose's host_ip); undefined: Docker's default, every address. */
  hostIp?: string;
}

/** A bind mount or a named volume, as compose's long volume syntax. */
export interface Mount {
  type: "bind" | "volume";
  source: string;
  target: string;
  readOnly: boolean;
}

export interface EnvEntry {
  name: string;
  /** A plain value, escaped by the template. */
  value?: string | number;
  /** A trusted `${VAR:?...}` reference to a secret in .env, written raw. */
  secret?: string;
}

export interface RayServiceView {
  service: string;
  hostname?: string;
  /** compose `extra_hosts`, `NAME:ADDRESS`. */
  extraHosts: string[];
  /** `network_mode: host`: Ray's ports are the host's, nothing is published. */
  hostNetwork: boolean;
  image: string;
  environment: EnvEntry[];
  ports: PortMapping[];
  mounts: Mount[];
  shmSize: string | number;
  cpus?: number;
  memory?: string | number;
  gpus?: "all" | number;
  /** The cluster token arrives as the compose secret: the container starts as root, Ray runs as the image's user. */
  clusterToken: boolean;
  /** The GCS's Redis password arrives as a compose secret too (services.ray.gcs_store). */
  gcsPassword: boolean;
}

export interface ComposeView {
  generatedBy: string;
  project: string;
  /** Undefined: Docker picks a free subnet. */
  subnet?: string;
  health?: {
    image: string;
    command: string[];
    healthcheck: string[];
    environment: EnvEntry[];
    mounts: Mount[];
    port: PortMapping;
  };
  rayServices: RayServiceView[];
  redis?: { image: string; script: string; environment: EnvEntry[]; mounts: Mount[]; port: PortMapping; healthcheck: string };
  postgres?: { image: string; environment: EnvEntry[]; mounts: Mount[]; healthcheck: string };
  mlflow?: {
    image: string;
    script: string;
    environment: EnvEntry[];
    mounts: Mount[];
    port: PortMapping;
    dependsOnPostgres: boolean;
    healthcheck: string;
  };
  marimo?: { image: string; script: string; environment: EnvEntry[]; mounts: Mount[]; port: PortMapping };
  /** Named volumes to declare at the top level. */
  volumes: string[];
  /** Declare the cluster token's compose secret (some Ray service uses it). */
  clusterTokenSecret: boolean;
  /** Declare the GCS Redis password's compose secret. */
  gcsPasswordSecret: boolean;
}

export interface ComposeInputs {
  model: Model;
  /** Absolute path of the Linux cslr binary mounted into the health container. */
  cslrBinary: string;
  /** Folder relative paths in config.yaml are taken from. */
  projectDir: string;
  /** Absolute `_build/` folder: mounts of generated files use absolute paths, whatever compose's project directory. */
  outDir: string;
  /** This host's address as other workstations reach it (resolved from host.address). */
  hostAddress: string;
  /** `NAME:ADDRESS` lines for the host-network Ray containers (src/host/hosts-file.ts: this host's name resolvable there). */
  hostNetworkExtraHosts?: string[];
  version: string;
  /**
   * The election service's certificate: its pin (what Ray nodes check), and on the coordinator
   * the files the health container serves HTTPS with. Undefined: plain HTTP, asked for.
   */
  tls?: ElectionTls;
}

export interface ElectionTls {
  pin: string;
  /** Absolute paths of the certificate and its key (0600), when this host runs the service. */
  certFile?: string;
  keyFile?: string;
}

/**
 * A published port on `network.bind_address`. 0.0.0.0 is left to Docker's default, which
 * publishes on every address, IPv6 too; an explicit host_ip 0.0.0.0 would drop IPv6.
 */
function published(model: Model, target: number, port: number): PortMapping {
  const address = model.network.bindAddress;
  return address === "0.0.0.0" ? { target, published: port } : { target, published: port, hostIp: address };
}

function secret(name: SecretName): EnvEntry {
  return { name, secret: secretReference(name) };
}

/** A configured host folder, else a named volume. */
function dataMount(projectDir: string, hostPath: string | undefined, volume: string, target: string): Mount {
  if (hostPath === undefined) return { type: "volume", source: volume, target, readOnly: false };
  const source = isAbsolute(hostPath) ? hostPath : resolve(projectDir, hostPath);
  return { type: "bind", source, target, readOnly: false };
}

/** The digest of what the health service serves (see joinInfoDigest): a change recreates it. */
function joinInfoDigestEnvironment(inputs: ComposeInputs): EnvEntry[] {
  const digest = joinInfoDigest(inputs.model, inputs.hostAddress, inputs.version);
  return digest === undefined ? [] : [{ name: "CSLR_JOIN_INFO_SHA256", value: digest }];
}

/** The port the health service listens on inside its container: the one Ray nodes are told to use. */
export function healthContainerPort(model: Model): number {
  const url = new URL(model.election.url);
  if (url.port) return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}

/** Each pinned Ray port and the variable that hands it to the node agent (Ray nodes and the cluster test's worker). */
export function pinnedPortEnvironment(pinned: PinnedRayPorts): EnvEntry[] {
  return pinnedEnv.map(([key, name]) => ({ name, value: pinned[key] }));
}

const pinnedEnv: [keyof PinnedRayPorts, string][] = [
  ["nodeManagerPort", "CSLR_NODE_MANAGER_PORT"],
  ["objectManagerPort", "CSLR_OBJECT_MANAGER_PORT"],
  ["runtimeEnvAgentPort", "CSLR_RUNTIME_ENV_AGENT_PORT"],
  ["dashboardAgentGrpcPort", "CSLR_DASHBOARD_AGENT_GRPC_PORT"],
  ["dashboardAgentListenPort", "CSLR_DASHBOARD_AGENT_LISTEN_PORT"],
  ["metricsExportPort", "CSLR_METRICS_EXPORT_PORT"],
  ["minWorkerPort", "CSLR_MIN_WORKER_PORT"],
  ["maxWorkerPort", "CSLR_MAX_WORKER_PORT"],
];

/** The node agent's environment (the contract documented in templates/ray-ep.sh). */
function rayEnvironment(model: Model, node: RayNode, hostAddress: string, tls: ElectionTls | undefined): EnvEntry[] {
  const host = model.network.mode === "host";
  // On the host network the node advertises this host's address; in bridge networking its
  // service name, which compose's DNS resolves to the container.
  const address = host ? model.host.address : node.service;
  const env: EnvEntry[] = [
    { name: "CSLR_NODE_NAME", value: node.name },
    { name: "CSLR_HOST_NAME", value: model.host.name },
    { name: "CSLR_NODE_ADDRESS", value: address },
    { name: "CSLR_HEALTH_URL", value: electionUrlForNodes(model) },
    { name: "CSLR_HEALTH_TIMEOUT", value: model.election.timeout },
    ...electionPinEnvironment(model, tls),
    // A Ray label: cslr run puts drivers on nodes that are never head, so a head change spares them.
    { name: "CSLR_HEAD_CANDIDATE", value: String(node.whitelisted) },
  ];
  if (host) env.push({ name: "CSLR_NODE_IP_ADDRESS", value: model.host.address });
  if (node.ports) {
    env.push(
      { name: "CSLR_HEAD_PORT", value: node.ports.head },
      { name: "CSLR_DASHBOARD_PORT", value: node.ports.dashboard },
      { name: "CSLR_CLIENT_PORT", value: node.ports.client },
    );
  }
  if (node.pinned) env.push(...pinnedPortEnvironment(node.pinned));
  // Bridge networking: the worker range (Ray's default one holds ray-gpu's client port) and
  // Ray's agents (left to Ray, a slow agent makes the raylet give up waiting for its port file).
  else
    env.push(
      ...pinnedEnv.filter(([key]) => key in bridgeAgentPorts).map(([key, name]) => ({ name, value: bridgeAgentPorts[key as keyof typeof bridgeAgentPorts] })),
      { name: "CSLR_MIN_WORKER_PORT", value: node.workerPorts.min },
      { name: "CSLR_MAX_WORKER_PORT", value: node.workerPorts.max },
    );
  if (node.cpus !== undefined) env.push({ name: "CSLR_NUM_CPUS", value: Math.max(1, Math.floor(node.cpus)) });
  // With `all`, Ray counts the GPUs the container sees itself.
  if (typeof node.gpus === "number") env.push({ name: "CSLR_NUM_GPUS", value: node.gpus });
  if (node.objectStoreMemory !== undefined) env.push({ name: "CSLR_OBJECT_STORE_MEMORY", value: node.objectStoreMemory });
  // Ray reads these itself; two heads on one host network would collide on the defaults (44227, 44217).
  if (node.pinned) {
    env.push(
      { name: "DASHBOARD_METRIC_PORT", value: node.pinned.dashboardMetricsPort },
      { name: "AUTOSCALER_METRIC_PORT", value: node.pinned.autoscalerMetricsPort },
    );
  }
  env.push(...rayAuthEnvironment(model), ...gcsEnvironment(model, node));
  if (model.election.headAddress) env.push({ name: "HEAD_ADDRESS", value: model.election.headAddress });
  // Code on the cluster that ignores the job's environment still logs to the cluster's MLflow.
  const mlflow = mlflowUrlForNodes(model, hostAddress);
  if (mlflow) env.push({ name: "MLFLOW_TRACKING_URI", value: mlflow });
  return env;
}

/**
 * GCS fault tolerance: where a head keeps the cluster's state, and the port this node's agent
 * forwards to the current head's GCS on (its raylet's only GCS address, so a new head at
 * another address is followed without a raylet restart). The password is a secret file.
 */
function gcsEnvironment(model: Model, node: RayNode): EnvEntry[] {
  if (!model.gcs) return [];
  return [
    { name: "CSLR_GCS_REDIS", value: model.gcs.redis },
    { name: "CSLR_GCS_NAMESPACE", value: model.gcs.namespace },
    { name: "CSLR_GCS_PROXY_PORT", value: node.gcsProxyPort },
  ];
}

/** The certificate pin the node agent checks the election service against (public: a hash). */
export function electionPinEnvironment(model: Model, tls: ElectionTls | undefined): EnvEntry[] {
  return tls && electionUrlForNodes(model).startsWith("https:") ? [{ name: "CSLR_HEALTH_PIN", value: tls.pin }] : [];
}

/** Ray's token authentication (Ray >= 2.52): every Ray process and client of this cluster holds RAY_AUTH_TOKEN. */
export function rayAuthEnvironment(model: Model): EnvEntry[] {
  if (!needsRayToken(model)) return [];
  return [{ name: "RAY_AUTH_MODE", value: "token" }, secret("RAY_AUTH_TOKEN")];
}

/** The agent and its entrypoint, mounted read-only into every Ray container (the cluster test's worker too). */
export function agentMounts(cslrBinary: string, outDir: string): Mount[] {
  return [
    { type: "bind", source: join(outDir, "ray-ep.sh"), target: paths.rayEntrypoint, readOnly: true },
    { type: "bind", source: cslrBinary, target: paths.cslrBinary, readOnly: true },
  ];
}

function rayService(model: Model, node: RayNode, inputs: ComposeInputs): RayServiceView {
  const hostNetwork = model.network.mode === "host";
  // On the host network Ray's ports are the host's own: nothing to publish.
  const ports = node.ports && !hostNetwork ? [node.ports.head, node.ports.dashboard, node.ports.client].map((p) => published(model, p, p)) : [];
  return {
    service: node.service,
    hostname: hostNetwork ? undefined : node.service,
    extraHosts: hostNetwork ? (inputs.hostNetworkExtraHosts ?? []) : [],
    hostNetwork,
    image: node.image,
    environment: rayEnvironment(model, node, inputs.hostAddress, inputs.tls),
    ports,
    mounts: agentMounts(inputs.cslrBinary, inputs.outDir),
    shmSize: node.shmSize,
    cpus: node.cpus,
    memory: node.memory,
    gpus: node.gpus,
    clusterToken: needsClusterToken(model),
    gcsPassword: model.gcs !== undefined,
  };
}

/**
 * The passwords go into a private ACL file, not onto redis-server's command line. `default`
 * (REDIS_PASSWORD) administers; `ray` (RAY_REDIS_PASSWORD, which Ray shows on its GCS server's
 * command line) reaches no admin command (CONFIG, MODULE, DEBUG, KEYS…).
 */
const redisScript = [
  "umask 077",
  "{ printf 'user default on >%s ~* &* +@all\\n' \"$REDIS_PASSWORD\"",
  'if [ -n "${RAY_REDIS_PASSWORD:-}" ]; then printf \'user ray on >%s ~* &* +@all -@admin -@dangerous +info +cluster|info\\n\' "$RAY_REDIS_PASSWORD"; fi; } > /tmp/users.acl',
  `exec redis-server --aclfile /tmp/users.acl --appendonly yes --dir ${paths.redisData}`,
].join(" && ");

/**
 * The database URI (with its password) goes to MLflow through its environment variable, never
 * onto the command line, where `ps` shows it to everyone on the host. Artifacts are served by
 * MLflow itself (mlflow-artifacts:/), so clients never write to a server-local path.
 */
const mlflowScript = (withPostgres: boolean) =>
  [
    withPostgres
      ? 'export MLFLOW_BACKEND_STORE_URI="postgresql://$PGUSER:$POSTGRES_PASSWORD@mlflow-postgres:5432/$PGDATABASE"; unset POSTGRES_PASSWORD;'
      : `export MLFLOW_BACKEND_STORE_URI=sqlite:///${paths.mlflowArtifacts}/mlflow.db;`,
    `exec mlflow server --host 0.0.0.0 --port "$MLFLOW_PORT" --workers 2 --serve-artifacts --artifacts-destination ${paths.mlflowArtifacts}`,
  ].join(" ");

/** The token reaches marimo on its standard input (--token-password-file -): not in argv, not left in its environment. */
const marimoScript = [
  "token=$MARIMO_TOKEN; unset MARIMO_TOKEN",
  // -q: marimo's banner prints the URL with the token in it, into the container's log.
  `exec marimo -q edit --headless --host 0.0.0.0 --port "$MARIMO_PORT" --token --token-password-file - ${paths.notebooks} <<EOF`,
  "$token",
  "EOF",
].join("\n");

/**
 * The Host headers MLflow 3 accepts (its DNS-rebinding check refuses others with 403): its
 * container name, loopback, this host's address, the private ranges, and what the user adds.
 */
export function mlflowAllowedHosts(model: Model, hostAddress: string): string {
  const names = ["mlflow", "localhost", "127.0.0.1", hostAddress, "10.*", "172.*", "192.168.*", ...model.config.services.mlflow.allowed_hosts];
  return [...new Set(names.flatMap((n) => (n.includes(":") ? [n] : [n, `${n}:*`])))].join(",");
}

/**
 * Ray for notebooks: the client port of this stack's first whitelisted Ray node (the head
 * whenever that node holds the lease; `cslr status` shows which one does).
 */
function marimoRayAddress(model: Model, hostAddress: string): EnvEntry[] {
  const node = model.rayNodes.find((n) => n.ports && n.whitelisted);
  if (!node?.ports) return [];
  const host = model.network.mode === "host" ? hostAddress : node.service;
  return [{ name: "RAY_ADDRESS", value: `ray://${host}:${node.ports.client}` }];
}

type OptionalService = "health" | "redis" | "postgres" | "mlflow" | "marimo";

/** One service of the stack besides Ray: its view, or undefined when the config leaves it off. */
type ServiceBuilder<K extends OptionalService> = (inputs: ComposeInputs) => ComposeView[K];

/**
 * The election service: leases the head, hands workstations what they need to join. With TLS
 * it serves the certificate `cslr init` made; its key is mounted into this container only
 * (read-only, mode 0600 on the host), never into a Ray container.
 */
/**
 * Ray's token: the lab page asks the head's dashboard with it; with host networking the service
 * also hands it, and Redis's `ray` password (members' heads keep the GCS in this stack's
 * Redis), to workstations that join with the cluster token.
 */
function healthEnvironment(inputs: ComposeInputs, hostNetwork: boolean): EnvEntry[] {
  const { model } = inputs;
  const gcsPassword = hostNetwork && model.gcs && model.config.services.redis.enabled ? [secret("RAY_REDIS_PASSWORD")] : [];
  return [secret("CSLR_CLUSTER_TOKEN"), ...rayAuthEnvironment(model), ...gcsPassword, ...joinInfoDigestEnvironment(inputs)];
}

function healthService(inputs: ComposeInputs): ComposeView["health"] {
  const { model, cslrBinary, outDir, tls: given } = inputs;
  const health = model.config.services.health;
  if (!health.enabled) return undefined;
  const inner = healthContainerPort(model);
  const hostNetwork = model.network.mode === "host";
  const tls = health.tls ? given : undefined;
  if (health.tls && !(tls?.certFile && tls.keyFile)) throw new Error("services.health.tls is on but no certificate was given to render");
  return {
    image: health.image,
    command: [
      "health",
      "serve",
      "--host",
      "0.0.0.0",
      "--port",
      String(inner),
      "--whitelist",
      model.election.whitelist.join(","),
      "--state",
      `${paths.electionState}/election.json`,
      "--lease-ttl",
      `${health.lease_ttl}s`,
      ...(hostNetwork ? ["--join-info", paths.joinInfo] : []),
      "--page",
      paths.pageInfo,
      ...(tls ? ["--tls-cert", paths.tlsCert, "--tls-key", paths.tlsKey] : []),
    ],
    healthcheck: [
      paths.cslrBinary,
      "health",
      "ping",
      "--url",
      `${tls ? "https" : "http"}://127.0.0.1:${inner}`,
      ...(tls ? ["--pin", tls.pin] : []),
      "--timeout",
      "2",
    ],
    environment: healthEnvironment(inputs, hostNetwork),
    mounts: [
      { type: "bind", source: cslrBinary, target: paths.cslrBinary, readOnly: true },
      ...(hostNetwork ? [{ type: "bind" as const, source: join(outDir, "join-info.json"), target: paths.joinInfo, readOnly: true }] : []),
      { type: "bind", source: join(outDir, "page.json"), target: paths.pageInfo, readOnly: true },
      ...(tls
        ? [
            { type: "bind" as const, source: tls.certFile!, target: paths.tlsCert, readOnly: true },
            { type: "bind" as const, source: tls.keyFile!, target: paths.tlsKey, readOnly: true },
          ]
        : []),
      { type: "volume", source: "election-state", target: paths.electionState, readOnly: false },
    ],
    port: published(model, inner, health.port),
  };
}

function redisService({ model, projectDir }: ComposeInputs): ComposeView["redis"] {
  const redis = model.config.services.redis;
  if (!redis.enabled) return undefined;
  return {
    image: redis.image,
    script: redisScript,
    environment: [secret("REDIS_PASSWORD"), ...(model.gcs ? [secret("RAY_REDIS_PASSWORD")] : [])],
    mounts: [dataMount(projectDir, redis.data_path, "redis-data", paths.redisData)],
    port: published(model, 6379, redis.port),
    healthcheck: 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping | grep -q PONG',
  };
}

/** MLflow's PostgreSQL runs only for an enabled MLflow. */
function withPostgres(model: Model): boolean {
  return model.config.services.mlflow.enabled && model.config.services.mlflow.postgres.enabled;
}

function postgresService({ model, projectDir }: ComposeInputs): ComposeView["postgres"] {
  if (!withPostgres(model)) return undefined;
  const pg = model.config.services.mlflow.postgres;
  return {
    image: pg.image,
    environment: [{ name: "POSTGRES_USER", value: pg.user }, { name: "POSTGRES_DB", value: pg.database }, secret("POSTGRES_PASSWORD")],
    mounts: [dataMount(projectDir, pg.data_path, "postgres-data", paths.postgresData)],
    healthcheck: 'pg_isready -U "$POSTGRES_USER" -d "$POSTGRES_DB"',
  };
}

function mlflowService({ model, projectDir, hostAddress }: ComposeInputs): ComposeView["mlflow"] {
  const mlflow = model.config.services.mlflow;
  if (!mlflow.enabled) return undefined;
  const pg = mlflow.postgres;
  const postgres = withPostgres(model);
  return {
    image: mlflow.image,
    script: mlflowScript(postgres),
    environment: [
      { name: "MLFLOW_PORT", value: mlflow.port },
      { name: "MLFLOW_SERVER_ALLOWED_HOSTS", value: mlflowAllowedHosts(model, hostAddress) },
      // Job execution is a separate worker pool in MLflow 3; cslr's jobs run on Ray.
      { name: "MLFLOW_SERVER_ENABLE_JOB_EXECUTION", value: "false" },
      ...(postgres ? [{ name: "PGUSER", value: pg.user }, { name: "PGDATABASE", value: pg.database }, secret("POSTGRES_PASSWORD")] : []),
    ],
    mounts: [dataMount(projectDir, mlflow.artifacts_path, "mlflow-artifacts", paths.mlflowArtifacts)],
    port: published(model, mlflow.port, mlflow.port),
    dependsOnPostgres: postgres,
    healthcheck: `python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${mlflow.port}/health')"`,
  };
}

function marimoService({ model, projectDir, hostAddress }: ComposeInputs): ComposeView["marimo"] {
  const { marimo, mlflow } = model.config.services;
  if (!marimo.enabled) return undefined;
  return {
    image: marimo.image,
    script: marimoScript,
    environment: [
      { name: "MARIMO_PORT", value: marimo.port },
      secret("MARIMO_TOKEN"),
      ...(mlflow.enabled ? [{ name: "MLFLOW_TRACKING_URI", value: `http://mlflow:${mlflow.port}` }] : []),
      ...marimoRayAddress(model, hostAddress),
      ...rayAuthEnvironment(model),
    ],
    mounts: [dataMount(projectDir, marimo.notebooks_path, "marimo-notebooks", paths.notebooks)],
    port: published(model, marimo.port, marimo.port),
  };
}

/** The services besides Ray, one builder each; their named volumes are declared in this order. */
const serviceBuilders: { [K in OptionalService]: ServiceBuilder<K> } = {
  health: healthService,
  redis: redisService,
  postgres: postgresService,
  mlflow: mlflowService,
  marimo: marimoService,
};

function buildService<K extends OptionalService>(name: K, inputs: ComposeInputs, into: Pick<ComposeView, OptionalService>): void {
  const view = serviceBuilders[name](inputs);
  if (view) into[name] = view;
}

export function composeView(inputs: ComposeInputs): ComposeView {
  const { model } = inputs;
  const services: Pick<ComposeView, OptionalService> = {};
  for (const name of Object.keys(serviceBuilders) as OptionalService[]) buildService(name, inputs, services);
  const mounts = Object.values(services).flatMap((service) => service.mounts);
  return {
    generatedBy: `cslr ${inputs.version}`,
    project: model.project.name,
    subnet: model.network.subnet,
    ...services,
    rayServices: model.rayNodes.map((node) => rayService(model, node, inputs)),
    volumes: [...new Set(mounts.flatMap((mount) => (mount.type === "volume" ? [mount.source] : [])))],
    clusterTokenSecret: needsClusterToken(model) && model.rayNodes.length > 0,
    gcsPasswordSecret: model.gcs !== undefined && model.rayNodes.length > 0,
  };
}
