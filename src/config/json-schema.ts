import { join } from "node:path";
import { z } from "zod";
import { configSchema, nodesSchema } from "./schema.ts";

/** JSON Schema for editors (the `yaml-language-server` `$schema` comment) and `cslr schema`. */
export function jsonSchemaOf(which: "config" | "nodes"): Record<string, unknown> {
  // io: "input" describes what a user writes: every key with a default is optional.
  return z.toJSONSchema(which === "config" ? configSchema : nodesSchema, { io: "input" }) as Record<string, unknown>;
}

/** `config.schema.json` and `nodes.schema.json` for a project folder, as `cslr init` and `cslr join` write them. */
export function schemaFiles(dir: string): { path: string; content: string; mode: number }[] {
  return (["config", "nodes"] as const).map((which) => ({
    path: join(dir, `${which}.schema.json`),
    content: `${JSON.stringify(jsonSchemaOf(which), null, 2)}\n`,
    mode: 0o644,
  }));
}
