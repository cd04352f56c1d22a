/** A Model (what loadProject returns) for the pure status modules, built with normalise(). */
import type { Model } from "../../src/config/model.ts";
import { normalise } from "../../src/config/normalise.ts";
import { configSchema, nodesSchema, type ConfigInput } from "../../src/config/schema.ts";

export function modelFixture(opts: { config?: ConfigInput; workers?: number; headAddress?: string | null } = {}): Model {
  const input = opts.config ?? {};
  const config = configSchema.parse({ ...input, services: { ...input.services, ray: { ...input.services?.ray, workers: opts.workers ?? 0 } } });
  const nodes = nodesSchema.parse({ head_whitelist: ["lab-cpu"], head_address: opts.headAddress ?? null });
  const model = normalise(config, nodes, { gpuDetected: false });
  // These tests name the CPU node as a lab machine would, to tell node names from service names.
  return { ...model, rayNodes: model.rayNodes.map((n) => (n.service === "ray-cpu" ? { ...n, name: "lab-cpu", whitelisted: true } : n)) };
}
