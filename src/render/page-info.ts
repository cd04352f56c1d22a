/**
 * Pure: what the lab page needs beyond the election (`_build/page.json`, read by the health
 * service with --page): the heads' dashboard ports, the services to check (by their names on
 * the compose network) and to link (at this host's address), MLflow, and the join line. No secret.
 */
import type { Model } from "../config/model.ts";
import { coordinatorUrl } from "../config/urls.ts";
import type { PageConfig } from "../page/config.ts";

export function pageInfoOf(model: Model, hostAddress: string): PageConfig | undefined {
  const s = model.config.services;
  if (!s.health.enabled) return undefined;
  const at = (port: number) => `http://${hostAddress}:${port}`;
  const services: PageConfig["services"] = [];
  if (s.redis.enabled) services.push({ name: "Redis", check: { tcp: "ray-redis:6379" } });
  if (s.mlflow.enabled && s.mlflow.postgres.enabled) services.push({ name: "PostgreSQL", check: { tcp: "mlflow-postgres:5432" } });
  if (s.mlflow.enabled) services.push({ name: "MLflow", check: { http: `http://mlflow:${s.mlflow.port}/health` }, link: at(s.mlflow.port) });
  if (s.marimo.enabled) services.push({ name: "Marimo", check: { http: `http://marimo:${s.marimo.port}/health` }, link: at(s.marimo.port) });
  const coordinator = model.network.mode === "host" ? coordinatorUrl(model, hostAddress) : undefined;
  return {
    version: 1,
    project: model.project.name,
    dashboardPorts: { "ray-cpu": s.ray.cpu.dashboard_port, "ray-gpu": s.ray.gpu.dashboard_port },
    services,
    ...(s.mlflow.enabled ? { mlflow: { api: `http://mlflow:${s.mlflow.port}`, ui: at(s.mlflow.port) } } : {}),
    ...(coordinator ? { joinLine: `cslr join ${coordinator} --token "$CSLR_CLUSTER_TOKEN"` } : {}),
  };
}
