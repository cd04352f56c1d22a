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
    ray: { cpuImage: s.ray.cpu.image, gpuImage: s.ray.gpu.image, cpu: head(s.ray.cpu), gpu: head(s.ray.gpu), hostPorts: { ...s.ray.host_ports }, auth: s.ray.auth },
    mlflow: { trackingUri: mlflowUrlForNodes(model, hostAddress) },
    redis: { url: s.redis.enabled ? `redis://${hostAddress}:${s.redis.port}` : undefined },
  };
}
