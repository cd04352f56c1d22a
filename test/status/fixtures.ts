/** A Model for the pure status modules: the shared fixture, with the CPU node named as a lab machine would name it. */
import type { Model } from "../../src/config/model.ts";
import type { ConfigInput } from "../../src/config/schema.ts";
import { modelFixture as baseModel } from "../helpers/model.ts";

export function modelFixture(opts: { config?: ConfigInput; workers?: number; headAddress?: string | null } = {}): Model {
  const input = opts.config ?? {};
  const config = { ...input, services: { ...input.services, ray: { ...input.services?.ray, workers: opts.workers ?? 0 } } };
  const model = baseModel(config, { head_whitelist: ["lab-cpu"], head_address: opts.headAddress ?? null });
  // These tests name the CPU node as a lab machine would, to tell node names from service names.
  return { ...model, rayNodes: model.rayNodes.map((n) => (n.service === "ray-cpu" ? { ...n, name: "lab-cpu", whitelisted: true } : n)) };
}
