/** Pure: docs/configuration.md's reference, drawn from the JSON Schema so it cannot drift. */
import { jsonSchemaOf } from "./json-schema.ts";

interface JsonSchemaNode {
  type?: string | string[];
  properties?: Record<string, JsonSchemaNode>;
  default?: unknown;
  description?: string;
  anyOf?: JsonSchemaNode[];
  const?: unknown;
  enum?: unknown[];
  items?: JsonSchemaNode;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  pattern?: string;
}

function typeOf(node: JsonSchemaNode): string {
  if (node.anyOf) return node.anyOf.map(typeOf).join(" \\| ");
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(" \\| ");
  if (node.type === "array") return `list of ${node.items ? typeOf(node.items) : "values"}`;
  if (node.type === "integer" && node.minimum === 1 && node.maximum === 65535) return "port";
  return Array.isArray(node.type) ? node.type.join(" \\| ") : (node.type ?? "any");
}

function rows(node: JsonSchemaNode, prefix: string, out: string[]): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (child.properties) {
      rows(child, path, out);
      continue;
    }
    const fallback = child.default === undefined ? "—" : `\`${JSON.stringify(child.default)}\``;
    out.push(`| \`${path}\` | ${typeOf(child)} | ${fallback} | ${child.description ?? ""} |`);
  }
}

export function configReference(): string {
  const out: string[] = [];
  for (const [file, which] of [
    ["config.yaml", "config"],
    ["nodes.yaml", "nodes"],
  ] as const) {
    out.push(`#### \`${file}\``, "", "| key | type | default | meaning |", "|---|---|---|---|");
    rows(jsonSchemaOf(which) as JsonSchemaNode, "", out);
    out.push("");
  }
  return out.join("\n").trimEnd();
}
