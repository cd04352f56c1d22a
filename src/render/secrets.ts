/**
 * Secrets live only in `.env` (mode 0600). Generated files reference them as `${VAR:?...}`, so
 * no secret value is ever written into `_build/`, and compose itself refuses to start without one.
 */
import type { Model } from "../config/model.ts";

export const secretNames = ["POSTGRES_PASSWORD", "REDIS_PASSWORD", "CSLR_CLUSTER_TOKEN", "MARIMO_TOKEN"] as const;
export type SecretName = (typeof secretNames)[number];

/** `${NAME:?...}`: compose fails with this text when the variable is unset or empty. */
export function secretReference(name: SecretName): string {
  return `\${${name}:?${name} is not set: run cslr init to create .env}`;
}

/** Which secrets the enabled services need, with the config key that needs each. */
export function requiredSecrets(model: Model): { name: SecretName; neededBy: string }[] {
  const s = model.config.services;
  const list: { name: SecretName; neededBy: string }[] = [];
  if (s.health.enabled || model.rayNodes.length > 0) list.push({ name: "CSLR_CLUSTER_TOKEN", neededBy: "services.health" });
  if (s.redis.enabled) list.push({ name: "REDIS_PASSWORD", neededBy: "services.redis" });
  if (s.mlflow.enabled && s.mlflow.postgres.enabled) list.push({ name: "POSTGRES_PASSWORD", neededBy: "services.mlflow.postgres" });
  if (s.marimo.enabled) list.push({ name: "MARIMO_TOKEN", neededBy: "services.marimo" });
  return list;
}

/** Parses a dotenv file: `KEY=value`, optional quotes, `#` comments. */
export function parseDotenv(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2]!;
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    values.set(match[1]!, value);
  }
  return values;
}

/** A random secret of letters and digits: safe inside URLs, shell words and config files. */
export function randomSecret(length = 32): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
  let out = "";
  // Rejection sampling keeps every character equally likely.
  for (const byte of bytes) {
    if (byte < 248) out += alphabet[byte % 62];
    if (out.length === length) break;
  }
  return out.length === length ? out : out + randomSecret(length - out.length);
}

/** Appends the missing secrets to a dotenv text, never touching existing values. */
export function withMissingSecrets(existing: string, fresh: () => string = randomSecret): { text: string; added: SecretName[] } {
  const present = parseDotenv(existing);
  const added = secretNames.filter((name) => !present.get(name));
  if (added.length === 0) return { text: existing, added };
  const prefix = existing === "" ? "# Secrets for cslr. Keep this file private (mode 0600); never commit it.\n" : existing.endsWith("\n") ? "" : "\n";
  const lines = added.map((name) => `${name}=${fresh()}`).join("\n");
  return { text: `${existing}${prefix}${lines}\n`, added };
}
