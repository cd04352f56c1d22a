/**
 * Pure: what the coordinator tells a workstation that joins (`_build/join-info.json`, served by
 * the election service to holders of the cluster token). Only a coordinator with host
 * networking has any: Ray in bridge networking cannot span workstations.
 */
import type { Model } from "../config/model.ts";
import { coordinatorUrl, mlflowUrlForNodes } from "../config/urls.ts";
import type { JoinInfo } from "../election/membership.ts";

export function joinInfoOf(model: Model, hostAddress: string, version: string): JoinInfo | undefined {
  const s = model.config.services;
  const url = coordinatorUrl(model, hostAddress);
  if (model.network.mode !== "host" || !url) return undefined;
  const head = (n: typeof s.ray.cpu | typeof s.ray.gpu) => ({ head_port: n.head_port, dashboard_port: n.dashboard_port, client_port: n.client_port });
  return {
    version: 1,
    cslrVersion: version,
    project: model.project.name,
    coordinator: { url, address: hostAddress, name: model.host.name },
    election: { whitelist: [...model.election.whitelist], leaseTtl: model.election.leaseTtl, timeout: model.election.timeout },
    ray: {
      cpuImage: s.ray.cpu.image,
      gpuImage: s.ray.gpu.image,
      cpu: head(s.ray.cpu),
      gpu: head(s.ray.gpu),
      hostPorts: { ...s.ray.host_ports },
      auth: s.ray.auth,
    },
    mlflow: { trackingUri: mlflowUrlForNodes(model, hostAddress) },
    redis: {
      url: s.redis.enabled ? `redis://${hostAddress}:${s.redis.port}` : undefined,
      // Heads on members keep the GCS in this Redis too, under the same namespace.
      gcsNamespace: s.redis.enabled && model.gcs ? model.gcs.namespace : undefined,
    },
  };
}

/** The text of `_build/join-info.json`; undefined without host networking. */
export function joinInfoText(model: Model, hostAddress: string, version: string): string | undefined {
  const info = joinInfoOf(model, hostAddress, version);
  return info ? `${JSON.stringify(info, null, 2)}\n` : undefined;
}

/**
 * SHA-256 of join-info.json, put in the health service's environment. The service reads the
 * file once at start, from a single-file bind mount that keeps the old inode when the file is
 * renamed into place; with its digest in the service's definition, compose recreates the
 * container whenever what it serves changes (address, images, ports, whitelist, TTL, MLflow).
 */
export function joinInfoDigest(model: Model, hostAddress: string, version: string): string | undefined {
  const text = joinInfoText(model, hostAddress, version);
  return text === undefined ? undefined : new Bun.CryptoHasher("sha256").update(text).digest("hex");
}
