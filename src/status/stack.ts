/**
 * What `cslr status` needs to know about this host's stack, from one of two places (pure):
 * the model, when config.yaml is valid; else the generated `_build/compose.yaml`, which
 * describes what runs. So a config with an error never hides the running stack.
 */
import type { ComposeDoc } from "../compose/target.ts";
import { hostIpOf, hostPortOf } from "../compose/published.ts";
import type { Model } from "../config/model.ts";
import { coordinatorHostOf, rosterUrl } from "../config/urls.ts";

export interface HeadPorts {
  head: number;
  dashboard: number;
  client: number;
}

export interface StackFacts {
  /** This workstation's name in the cluster. */
  hostName: string;
  mode: "bridge" | "host";
  /** Where this host asks the election service for the roster. */
  rosterUrl: string;
  /** The SHA-256 of the election service's certificate, when it speaks HTTPS. */
  electionPin?: string;
  /** host.address: "auto" or a fixed address. */
  hostAddress: string;
  /** The coordinator's host when the election service runs elsewhere (to find this host's route to it). */
  coordinatorHost?: string;
  /** This host's Ray nodes that can be head: their node names and services. */
  localHeads: { name: string; service: string }[];
  /** Head ports by service (ray-cpu, ray-gpu): a head elsewhere uses its service's ports. */
  headPorts: Record<string, HeadPorts>;
  /** Host ports of the other services that run here. */
  published: { mlflow?: number; marimo?: number; redis?: number; health?: number };
  /** The address published ports bind to, when not every address (network.bind_address). */
  bindAddress?: string;
  /** GCS fault tolerance: the Redis heads keep Ray's state in, and the cluster's namespace there. */
  gcs?: { redis: string; namespace: string };
}

/** `pin`: the election service's certificate pin (src/election/access.ts reads it). */
export function stackFactsOfModel(model: Model, pin?: string): StackFacts {
  const s = model.config.services;
  const bind = model.network.bindAddress;
  return {
    gcs: model.gcs,
    hostName: model.host.name,
    mode: model.network.mode,
    rosterUrl: rosterUrl(model),
    electionPin: rosterUrl(model).startsWith("https:") ? pin : undefined,
    hostAddress: model.host.address,
    coordinatorHost: coordinatorHostOf(model),
    localHeads: model.rayNodes.filter((n) => n.ports).map((n) => ({ name: n.name, service: n.service })),
    headPorts: {
      "ray-cpu": { head: s.ray.cpu.head_port, dashboard: s.ray.cpu.dashboard_port, client: s.ray.cpu.client_port },
      "ray-gpu": { head: s.ray.gpu.head_port, dashboard: s.ray.gpu.dashboard_port, client: s.ray.gpu.client_port },
    },
    published: {
      mlflow: s.mlflow.enabled ? s.mlflow.port : undefined,
      marimo: s.marimo.enabled ? s.marimo.port : undefined,
      redis: s.redis.enabled ? s.redis.port : undefined,
      health: s.health.enabled ? s.health.port : undefined,
    },
    bindAddress: bind === "0.0.0.0" || bind === "::" ? undefined : bind,
  };
}

type ServiceDef = NonNullable<NonNullable<ComposeDoc["services"]>[string]>;

function envOf(service: ServiceDef): Record<string, string> {
  const env = service.environment as unknown;
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => String(e).split(/=(.*)/s).slice(0, 2) as [string, string]));
  return Object.fromEntries(Object.entries((env as Record<string, unknown> | undefined) ?? {}).map(([k, v]) => [k, String(v)]));
}

function firstPublished(service: ServiceDef | null | undefined): { port?: number; hostIp?: string } {
  const entry = service?.ports?.find((p) => hostPortOf(p) !== undefined);
  return entry === undefined ? {} : { port: hostPortOf(entry), hostIp: hostIpOf(entry) };
}

/**
 * The same facts read back from a generated compose file: the Ray nodes' environment (the node
 * agent's contract: CSLR_NODE_NAME, CSLR_HOST_NAME, CSLR_*_PORT, CSLR_HEALTH_URL, CSLR_GCS_*) and the
 * services' published ports.
 */
export function stackFactsOfCompose(doc: ComposeDoc, fallbackHostName: string): StackFacts {
  const services = Object.entries(doc.services ?? {}).filter((entry): entry is [string, ServiceDef] => entry[1] != null);
  const ray = services.map(([name, def]) => ({ service: name, def, env: envOf(def) })).filter((r) => r.env.CSLR_NODE_NAME !== undefined);
  const mode = ray.some((r) => r.def.network_mode === "host") ? "host" : "bridge";
  const headPorts: Record<string, HeadPorts> = {};
  const localHeads: StackFacts["localHeads"] = [];
  for (const r of ray) {
    if (r.env.CSLR_HEAD_PORT === undefined) continue;
    headPorts[r.service] = { head: Number(r.env.CSLR_HEAD_PORT), dashboard: Number(r.env.CSLR_DASHBOARD_PORT), client: Number(r.env.CSLR_CLIENT_PORT) };
    localHeads.push({ name: r.env.CSLR_NODE_NAME!, service: r.service });
  }
  const byName = Object.fromEntries(services);
  const health = firstPublished(byName.health);
  const electionUrl = ray.find((r) => r.env.CSLR_HEALTH_URL)?.env.CSLR_HEALTH_URL;
  const pin = ray.find((r) => r.env.CSLR_HEALTH_PIN)?.env.CSLR_HEALTH_PIN;
  const gcs = ray.find((r) => r.env.CSLR_GCS_REDIS && r.env.CSLR_GCS_NAMESPACE)?.env;
  return {
    gcs: gcs ? { redis: gcs.CSLR_GCS_REDIS!, namespace: gcs.CSLR_GCS_NAMESPACE! } : undefined,
    hostName: ray.find((r) => r.env.CSLR_HOST_NAME)?.env.CSLR_HOST_NAME ?? fallbackHostName,
    mode,
    rosterUrl: health.port !== undefined ? `${pin ? "https" : "http"}://127.0.0.1:${health.port}` : (electionUrl ?? "http://127.0.0.1:8888"),
    electionPin: pin,
    hostAddress: mode === "host" ? (ray[0]?.env.CSLR_NODE_ADDRESS ?? "auto") : "auto",
    coordinatorHost: health.port === undefined && electionUrl && URL.canParse(electionUrl) ? new URL(electionUrl).hostname : undefined,
    localHeads,
    headPorts,
    published: {
      mlflow: firstPublished(byName.mlflow).port,
      marimo: firstPublished(byName.marimo).port,
      redis: firstPublished(byName["ray-redis"]).port,
      health: health.port,
    },
    bindAddress: health.hostIp ?? firstPublished(byName.mlflow).hostIp,
  };
}
