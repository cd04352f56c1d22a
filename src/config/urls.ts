/**
 * Addresses as seen from where they are used (pure, from the model and this host's resolved
 * address). One home, so the compose file, `status`, `cslr run` and `cslr join` agree.
 */
import type { Model } from "./model.ts";
import { serviceOf } from "./names.ts";

/** The election service as seen from this host: its published port on loopback, or the configured URL when it runs elsewhere. */
export function rosterUrl(model: Model): string {
  const health = model.config.services.health;
  return health.enabled ? `http://127.0.0.1:${health.port}` : model.election.url;
}

/** The coordinator's host when the election service runs elsewhere (a member workstation); undefined on the coordinator. */
export function coordinatorHostOf(model: Model): string | undefined {
  return model.config.services.health.enabled ? undefined : new URL(model.election.url).hostname;
}

/** The election service as this host's Ray nodes reach it. */
export function electionUrlForNodes(model: Model): string {
  const health = model.config.services.health;
  // On the host network the service's published port is on this host's loopback.
  if (model.network.mode === "host" && health.enabled) return `http://127.0.0.1:${health.port}`;
  return model.election.url;
}

/** The election service as other workstations reach it (what `cslr join` is given). */
export function coordinatorUrl(model: Model, hostAddress: string): string | undefined {
  const health = model.config.services.health;
  return health.enabled ? `http://${hostAddress}:${health.port}` : undefined;
}

/**
 * MLflow as code running on the cluster reaches it: the configured tracking URI (a member
 * workstation points at the coordinator's), else this stack's own MLflow, by service name on
 * one workstation and by this host's address with several.
 */
export function mlflowUrlForNodes(model: Model, hostAddress: string): string | undefined {
  const mlflow = model.config.services.mlflow;
  if (mlflow.tracking_uri) return mlflow.tracking_uri;
  if (!mlflow.enabled) return undefined;
  return model.network.mode === "host" ? `http://${hostAddress}:${mlflow.port}` : `http://mlflow:${mlflow.port}`;
}

/** The head ports of the service a node runs (`ray-gpu.ws2` → ray-gpu's), from this host's config. */
export function headPortsOf(model: Model, node: string): { head: number; dashboard: number; client: number } | undefined {
  const service = serviceOf(node);
  const ray = model.config.services.ray;
  if (service === "ray-cpu") return { head: ray.cpu.head_port, dashboard: ray.cpu.dashboard_port, client: ray.cpu.client_port };
  if (service === "ray-gpu") return { head: ray.gpu.head_port, dashboard: ray.gpu.dashboard_port, client: ray.gpu.client_port };
  return undefined;
}
