/** The data the Ray entrypoint template (`templates/ray-ep.sh.eta`) is rendered with. */
import type { HeadCandidate, Model } from "../config/model.ts";

export interface RayEntrypointData {
  whitelist: string[];
  headCandidates: HeadCandidate[];
  headAddress: string | null;
  healthUrl: string;
  /** Seconds a node keeps trying the election service before its fallback. */
  healthTimeout: number;
  /** Seconds a head lease lasts without a heartbeat. */
  leaseTtl: number;
}

/** Pure: the election part of the model, as defaults baked into the entrypoint. */
export function rayEntrypointData(model: Model): RayEntrypointData {
  const { whitelist, headCandidates, headAddress, url, timeout, leaseTtl } = model.election;
  return {
    whitelist: [...whitelist],
    headCandidates: headCandidates.map((c) => ({ name: c.name, address: c.address, port: c.port })),
    headAddress,
    healthUrl: url,
    healthTimeout: timeout,
    leaseTtl,
  };
}
