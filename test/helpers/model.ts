/** A Model for tests, built the way cslr builds it: schemas, then normalise(). */
import type { Model } from "../../src/config/model.ts";
import { normalise } from "../../src/config/normalise.ts";
import { configSchema, nodesSchema, type ConfigInput, type NodesInput } from "../../src/config/schema.ts";

export function modelFixture(configInput: ConfigInput = {}, nodesInput: NodesInput = { head_whitelist: ["ray-cpu", "ray-gpu"] }): Model {
  return normalise(configSchema.parse(configInput), nodesSchema.parse(nodesInput), { gpuDetected: false });
}
