/**
 * Which secrets the enabled services need (pure, from the model). The values live only in
 * `.env` (config/dotenv.ts); generated files refer to them (render/secrets.ts).
 */
import type { Model } from "./model.ts";

export const secretNames = ["POSTGRES_PASSWORD", "REDIS_PASSWORD", "CSLR_CLUSTER_TOKEN", "MARIMO_TOKEN", "RAY_AUTH_TOKEN", "RAY_REDIS_PASSWORD"] as const;
export type SecretName = (typeof secretNames)[number];

/**
 * The one rule for CSLR_CLUSTER_TOKEN: the election service holds it, and every node that
 * talks to the election (Ray nodes and the cluster test's worker, unless a fixed
 * head_address skips the election) presents it.
 */
export function needsClusterToken(model: Model): boolean {
  return model.config.services.health.enabled || model.election.headAddress === null;
}

/** Ray's own token (services.ray.auth: token): every Ray node, the cluster test, and Marimo's Ray client hold it. */
export function needsRayToken(model: Model): boolean {
  return model.config.services.ray.auth === "token" && (model.rayNodes.length > 0 || model.config.services.marimo.enabled);
}

/** Which secrets the enabled services need, with the config key that needs each. */
export function requiredSecrets(model: Model): { name: SecretName; neededBy: string }[] {
  const s = model.config.services;
  const list: { name: SecretName; neededBy: string }[] = [];
  if (needsClusterToken(model)) {
    list.push({ name: "CSLR_CLUSTER_TOKEN", neededBy: s.health.enabled ? "services.health" : "the election (head_address is not set)" });
  }
  if (s.redis.enabled) list.push({ name: "REDIS_PASSWORD", neededBy: "services.redis" });
  if (s.mlflow.enabled && s.mlflow.postgres.enabled) list.push({ name: "POSTGRES_PASSWORD", neededBy: "services.mlflow.postgres" });
  if (s.marimo.enabled) list.push({ name: "MARIMO_TOKEN", neededBy: "services.marimo" });
  if (needsRayToken(model)) list.push({ name: "RAY_AUTH_TOKEN", neededBy: "services.ray.auth" });
  if (model.gcs) list.push({ name: "RAY_REDIS_PASSWORD", neededBy: "services.ray.gcs_store" });
  return list;
}
