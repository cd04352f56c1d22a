/**
 * `cslr doctor`'s pure parts: which secrets a compose file needs, which a `.env` file
 * provides, and whether Docker knows the NVIDIA runtime.
 */
import { parseDotenv } from "../config/dotenv.ts";
import type { Model } from "../config/model.ts";
import { isLoopback } from "../config/rules.ts";

export { requiredEnvVars } from "../compose/placeholders.ts";

/** Names given a non-empty value in a `.env` file (`NAME=value`, optional `export `, `#` comments). */
export function dotEnvNames(text: string): Set<string> {
  return new Set([...parseDotenv(text)].filter(([, value]) => value !== "").map(([name]) => name));
}

/** Does `docker info --format '{{json .Runtimes}}'` list the NVIDIA runtime? */
export function hasNvidiaRuntime(runtimesJson: string): boolean {
  try {
    const runtimes = JSON.parse(runtimesJson) as Record<string, unknown>;
    return Object.keys(runtimes).includes("nvidia");
  } catch {
    return /nvidia/.test(runtimesJson);
  }
}

/**
 * Ray's dashboard, whose Jobs API runs whatever code it is sent, and its client port, reachable
 * from other machines with no token: a warning with the fix, or undefined when it is not so.
 * Published ports follow network.bind_address; on the host network Ray listens on every address.
 */
export function rayExposure(model: Model): { detail: string; fix: string } | undefined {
  if (model.config.services.ray.auth !== "none") return undefined;
  const heads = model.rayNodes.filter((n) => n.ports);
  if (heads.length === 0) return undefined;
  const ports = heads.map((n) => `${n.service} ${n.ports!.dashboard}, ${n.ports!.client}`).join("; ");
  const bind = model.network.bindAddress;
  const tokenFix = "set services.ray.auth: token (the default; Ray clients then need RAY_AUTH_TOKEN from .env)";
  if (model.network.mode === "host") {
    return {
      detail: `services.ray.auth is none and Ray's dashboard and client ports (${ports}) listen on every address of this host (network.mode host): anyone who reaches them can run code through the Jobs API`,
      fix: tokenFix,
    };
  }
  if (isLoopback(bind)) return undefined;
  const where = bind === "0.0.0.0" || bind === "::" ? "every address of this host" : bind;
  return {
    detail: `services.ray.auth is none and Ray's dashboard and client ports (${ports}) are published on ${where}: anyone who reaches them can run code through the Jobs API`,
    fix: `${tokenFix}, or network.bind_address: 127.0.0.1 to keep the stack to this machine`,
  };
}
