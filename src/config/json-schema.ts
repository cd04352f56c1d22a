import { z } from "zod";
import { configSchema, nodesSchema } from "./schema.ts";

/** JSON Schema for editors (the `yaml-language-server` `$schema` comment) and `cslr schema`. */
export function jsonSchemaOf(which: "config" | "nodes"): Record<string, unknown> {
  // io: "input" describes what a user writes: every key with a default is optional.
  return z.toJSONSchema(which === "config" ? configSchema : nodesSchema, { io: "input" }) as Record<string, unknown>;
}
