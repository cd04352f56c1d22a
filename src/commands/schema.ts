import { defineCommand } from "citty";
import { logArgs } from "../args.ts";
import { jsonSchemaOf } from "../config/json-schema.ts";

export default defineCommand({
  meta: { name: "schema", description: "Print the JSON Schema of config.yaml (or nodes.yaml with --nodes)" },
  args: {
    ...logArgs,
    nodes: { type: "boolean", description: "Schema of nodes.yaml instead of config.yaml" },
  },
  run({ args }) {
    process.stdout.write(`${JSON.stringify(jsonSchemaOf(args.nodes ? "nodes" : "config"), null, 2)}\n`);
  },
});
