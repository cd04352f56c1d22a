/**
 * Pure: Model → the defaults baked into `_build/ray-ep.sh`. Per-node values (name, address,
 * ports) come from each service's environment; see the comment block in templates/ray-ep.sh.eta.
 * (The election module owns the entrypoint; this is the seam between it and the renderer.)
 */
import type { Model } from "../config/model.ts";

export interface RayEntrypointView {
  whitelist: string[];
  headCandidates: { name: string; address: string; port: number }[];
  headAddress: string | null;
  healthUrl: string;
  healthTimeout: number;
  leaseTtl: number;
}

export function rayEntrypointView(model: Model): RayEntrypointView {
  return {
    whitelist: model.election.whitelist,
    headCandidates: model.election.headCandidates,
    headAddress: model.election.headAddress,
    healthUrl: model.election.url,
    healthTimeout: model.election.timeout,
    leaseTtl: model.election.leaseTtl,
  };
}
