/**
 * Pure: from what the coordinator said (JoinInfo) and this workstation's name, the files of a
 * member host (config.yaml, nodes.yaml, .env), the ports other hosts will dial on it, and the
 * firewall lines that open them. `cslr join` and `cslr ports` print from here.
 */
import { Document, isMap, isScalar } from "yaml";
import type { Model } from "../config/model.ts";
import { pinnedPortList } from "../config/normalise.ts";
import type { JoinInfo } from "../election/membership.ts";

/** Comments on keys of the written file: `["network", "mode"]` → the text after the value. */
type KeyComments = [path: string[], comment: string][];

/**
 * YAML text from data, by the YAML library: every value is a scalar the library quotes as
 * needed, so nothing the coordinator sent can add a key, a block or an alias to the file.
 */
function yamlDocument(header: string[], data: object, comments: KeyComments): string {
  const doc = new Document(data);
  doc.commentBefore = header.join("\n");
  for (const [path, comment] of comments) {
    const node = doc.getIn(path, true);
    if (isScalar(node) || isMap(node)) node.comment = comment;
  }
  return doc.toString({ lineWidth: 0 });
}

/** A member host: Ray nodes only (no election service, Redis, MLflow or Marimo), on the host network. */
export function memberConfig(info: JoinInfo, host: { name: string; address: string }): string {
  const r = info.ray;
  const head = (ports: JoinInfo["ray"]["cpu"]) => ({ head_port: ports.head_port, dashboard_port: ports.dashboard_port, client_port: ports.client_port });
  const data = {
    project: { name: info.project },
    network: { mode: "host" },
    host: { name: host.name, address: "auto" },
    services: {
      health: { enabled: false },
      ray: {
        cpu: { enabled: true, image: r.cpuImage, ...head(r.cpu) },
        gpu: { enabled: "auto", image: r.gpuImage, ...head(r.gpu) },
        auth: r.auth,
        workers: 0,
        host_ports: { base: r.hostPorts.base, per_node: r.hostPorts.per_node },
        ...memberGcs(info),
      },
      redis: { enabled: false },
      mlflow: { enabled: false, ...(info.mlflow.trackingUri ? { tracking_uri: info.mlflow.trackingUri } : {}) },
      marimo: { enabled: false },
    },
  };
  return yamlDocument(
    [
      " yaml-language-server: $schema=./config.schema.json",
      ` A member workstation of the cluster ${info.project}, written by \`cslr join\` from ${info.coordinator.url}.`,
      " Ray nodes only: the election service, Redis, MLflow and Marimo run on the coordinator.",
    ],
    data,
    [
      [["network", "mode"], " Ray nodes on the host network: other workstations dial them back here"],
      [["host", "address"], ` the source address of the route to the coordinator (${host.address} when joined)`],
      [["services", "health", "enabled"], " the coordinator runs it"],
      [["services", "ray", "gpu", "enabled"], " on when `nvidia-smi -L` lists a GPU"],
      ...(info.mlflow.trackingUri ? [[["services", "mlflow", "tracking_uri"], " the coordinator's MLflow"] as [string[], string]] : []),
    ],
  );
}

/** `pin`: the coordinator's certificate SHA-256, from the join token (undefined: plain HTTP, asked for). */
export function memberNodes(info: JoinInfo, pin?: string): string {
  return yamlDocument(
    [
      " yaml-language-server: $schema=./nodes.schema.json",
      ` Written by \`cslr join\` from ${info.coordinator.url}: the cluster's whitelist and election service.`,
    ],
    {
      head_whitelist: [...info.election.whitelist],
      health_service: { url: info.coordinator.url, timeout: info.election.timeout, ...(pin ? { pin } : {}) },
    },
    [],
  );
}

/** GCS fault tolerance as the coordinator keeps it: its Redis and namespace (with the password in .env); else Ray's own. */
function memberGcs(info: JoinInfo): { gcs_store: string; gcs_namespace?: string } {
  const { url, gcsNamespace, gcsPassword } = info.redis;
  return url && gcsNamespace && gcsPassword ? { gcs_store: url, gcs_namespace: gcsNamespace } : { gcs_store: "memory" };
}

/** The member's .env: every value matched a strict grammar (no line break can add a variable). */
export function memberEnv(clusterToken: string, rayToken: string | undefined, gcsPassword?: string): string {
  const lines = [
    "# Secrets for cslr on a member workstation (the cluster's tokens). Keep this file private (mode 0600).",
    `CSLR_CLUSTER_TOKEN=${clusterToken}`,
  ];
  if (rayToken) lines.push(`RAY_AUTH_TOKEN=${rayToken}`);
  if (gcsPassword) lines.push(`RAY_REDIS_PASSWORD=${gcsPassword}`);
  return `${lines.join("\n")}\n`;
}

export interface PlannedPort {
  port: number;
  service: string;
  /** What the port is for, as one line. */
  what: string;
}

/**
 * The ports other workstations dial on this host: every Ray node's pinned block, and the head
 * ports of a node that may become head. On one workstation (bridge) Ray's ports are the
 * containers' own, and only the published head ports face the network.
 */
export function rayPortPlan(model: Model): PlannedPort[] {
  const out: PlannedPort[] = [];
  for (const node of model.rayNodes) {
    if (node.ports && (node.whitelisted || model.network.mode === "bridge")) {
      out.push(
        { port: node.ports.head, service: node.service, what: "Ray GCS (when head)" },
        { port: node.ports.dashboard, service: node.service, what: "Ray dashboard and Jobs API (when head)" },
        { port: node.ports.client, service: node.service, what: "Ray client server (when head)" },
      );
    }
    if (!node.pinned) continue;
    const p = node.pinned;
    out.push(
      { port: p.nodeManagerPort, service: node.service, what: "node manager" },
      { port: p.objectManagerPort, service: node.service, what: "object manager" },
      { port: p.runtimeEnvAgentPort, service: node.service, what: "runtime env agent" },
      { port: p.dashboardAgentGrpcPort, service: node.service, what: "dashboard agent (gRPC)" },
      { port: p.dashboardAgentListenPort, service: node.service, what: "dashboard agent (HTTP)" },
      { port: p.metricsExportPort, service: node.service, what: "metrics export" },
      ...pinnedPortList(p)
        .filter((port) => port >= p.minWorkerPort)
        .map((port) => ({ port, service: node.service, what: "worker processes" })),
    );
  }
  return out;
}

/** Sorted ports as ranges: [6700, 6701, 6702, 6710] → [[6700, 6702], [6710, 6710]]. */
export function portRanges(ports: number[]): [number, number][] {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const ranges: [number, number][] = [];
  for (const port of sorted) {
    const last = ranges.at(-1);
    if (last && port === last[1] + 1) last[1] = port;
    else ranges.push([port, port]);
  }
  return ranges;
}

/** The cluster's network as a firewall source: the /24 of the coordinator's address. */
export function clusterSource(coordinatorAddress: string): string {
  const parts = coordinatorAddress.split(".");
  return parts.length === 4 ? `${parts.slice(0, 3).join(".")}.0/24` : coordinatorAddress;
}

/** One `ufw` and one `firewalld` line per range, opening it to the cluster's network only. */
export function firewallLines(ports: number[], source: string): { ufw: string[]; firewalld: string[] } {
  const ranges = portRanges(ports);
  return {
    ufw: ranges.map(([a, b]) => `sudo ufw allow proto tcp from ${source} to any port ${a === b ? a : `${a}:${b}`}`),
    firewalld: [
      ...ranges.map(
        ([a, b]) =>
          `sudo firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="${source}" port port="${a === b ? a : `${a}-${b}`}" protocol="tcp" accept'`,
      ),
      "sudo firewall-cmd --reload",
    ],
  };
}
