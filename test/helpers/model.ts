/** A Model for tests, built the way cslr builds it: schemas, then normalise(), on a host named ws1 without a GPU. */
import type { Model } from "../../src/config/model.ts";
import { normalise, type HostFacts } from "../../src/config/normalise.ts";
import { configSchema, nodesSchema, type ConfigInput, type NodesInput } from "../../src/config/schema.ts";

export function modelFixture(
  configInput: ConfigInput = {},
  nodesInput: NodesInput = { head_whitelist: ["ray-cpu", "ray-gpu"] },
  host: Partial<HostFacts> = {},
): Model {
  return normalise(configSchema.parse(configInput), nodesSchema.parse(nodesInput), { gpuDetected: false, hostname: "ws1", ...host });
}

/** A Model whose CPU node is named as a lab machine would name it (`lab-cpu`), to tell node names from service names. */
export function labModelFixture(opts: { config?: ConfigInput; workers?: number; headAddress?: string | null } = {}): Model {
  const input = opts.config ?? {};
  const config = { ...input, services: { ...input.services, ray: { ...input.services?.ray, workers: opts.workers ?? 0 } } };
  const model = modelFixture(config, { head_whitelist: ["lab-cpu"], head_address: opts.headAddress ?? null });
  return { ...model, rayNodes: model.rayNodes.map((n) => (n.service === "ray-cpu" ? { ...n, name: "lab-cpu", whitelisted: true } : n)) };
}
