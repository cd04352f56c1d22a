/**
 * Pure validation with positions: YAML text → typed config or every problem at once, each
 * with its line and column (the slow path of loading, and `health serve --nodes`).
 */
import { isCollection, isMap, isPair, isScalar, LineCounter, parseDocument, visit, type Document } from "yaml";
import type { z } from "zod";
import type { Diagnostic, PathSegment } from "./config-error.ts";
import { diagnosticAt, diagnosticAtKey, type SourceFile } from "./diagnostics.ts";
import type { Problem } from "./rules.ts";
import { closestMatch } from "./suggest.ts";

export type Parsed<T> = { ok: true; value: T; source: SourceFile } | { ok: false; diagnostics: Diagnostic[]; source?: SourceFile };

/** Parses YAML text into a document whose top level is a mapping. */
export function parseYamlSource(file: string, text: string): { source?: SourceFile; diagnostics: Diagnostic[] } {
  const lines = new LineCounter();
  // yaml's own uniqueKeys check compares every key with every other (minutes for 100k keys);
  // duplicateKeys below finds them in one pass.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const source: SourceFile = { file, doc, lines };
  const syntax: Diagnostic[] = doc.errors.map((error) => {
    const pos = error.linePos?.[0] ?? lines.linePos(error.pos[0]);
    const what = error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    return { file, line: pos.line, col: pos.col, path: "(document)", message: `YAML syntax error: ${what}; expected valid YAML` };
  });
  const errors = syntax.length > 0 ? syntax : duplicateKeys(doc, lines, file);
  if (errors.length > 0) return { diagnostics: errors };
  if (doc.contents === null) {
    return { diagnostics: [{ file, line: 1, col: 1, path: "(document)", message: "empty file; expected a YAML mapping of settings" }] };
  }
  if (!isMap(doc.contents)) {
    return { diagnostics: [diagnosticAt(source, [], "not a mapping; expected a YAML mapping of settings at the top level")] };
  }
  return { source, diagnostics: [] };
}

/** A key written twice in one mapping, at its second place (the way yaml's own check words it). */
function duplicateKeys(doc: Document.Parsed, lines: LineCounter, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isPair(pair) || !isScalar(pair.key) || isCollection(pair.key)) continue;
        const key = String(pair.key.value);
        if (!seen.has(key)) {
          seen.add(key);
          continue;
        }
        const { line, col } = lines.linePos(pair.key.range?.[0] ?? 0);
        out.push({ file, line, col, path: "(document)", message: "YAML syntax error: Map keys must be unique; expected valid YAML" });
      }
    },
  });
  return out;
}

/** The object keys a schema accepts at `path`, for did-you-mean on unknown keys. */
function knownKeys(schema: z.ZodType, path: readonly PathSegment[]): string[] {
  let current: any = schema;
  const unwrap = () => {
    while (current?._zod?.def && ["default", "prefault", "optional", "nullable", "pipe"].includes(current._zod.def.type)) {
      current = current._zod.def.innerType ?? current._zod.def.in;
    }
  };
  unwrap();
  for (const segment of path) {
    if (current?._zod?.def?.type === "object") current = current._zod.def.shape[segment];
    else if (current?._zod?.def?.type === "array") current = current._zod.def.element;
    else return [];
    unwrap();
  }
  return current?._zod?.def?.type === "object" ? Object.keys(current._zod.def.shape) : [];
}

function describeReceived(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

const typeNames: Record<string, string> = {
  object: "a mapping",
  array: "a list",
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
};

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let current: any = data;
  for (const segment of path) current = current?.[segment];
  return current;
}

/** At most this many diagnostics are positioned and printed per file: the rest are counted. */
export const maxDiagnostics = 30;

/** Turns zod issues into positioned one-line diagnostics (the first maxDiagnostics of them). */
export function schemaDiagnostics(schema: z.ZodType, source: SourceFile, data: unknown, issues: z.core.$ZodIssue[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const total = issues.reduce((n, issue) => n + (issue.code === "unrecognized_keys" ? issue.keys.length : 1), 0);
  for (const issue of issues) {
    if (out.length >= maxDiagnostics) break;
    const path = issue.path as PathSegment[];
    if (issue.code === "unrecognized_keys") {
      const known = knownKeys(schema, path);
      for (const key of issue.keys.slice(0, maxDiagnostics - out.length)) {
        const suggestion = closestMatch(key, known);
        const expected = suggestion ? `did you mean "${suggestion}"?` : `expected one of: ${known.join(", ")}`;
        out.push(diagnosticAtKey(source, path, key, `unknown key "${key}"; ${expected}`));
      }
      continue;
    }
    const received = valueAt(data, path);
    let message = issue.message;
    if (received === undefined && issue.code === "invalid_type") {
      message = `missing; ${message.includes("expected") ? message.slice(message.indexOf("expected")) : "a value is required"}`;
    } else if (issue.code === "invalid_type" && message.startsWith("Invalid input")) {
      message = `wrong type (${describeReceived(received)}); expected ${typeNames[issue.expected] ?? issue.expected}`;
    } else if (!message.includes("expected")) {
      message = `${message}; got ${describeReceived(received)}`;
    } else if (received !== undefined && !message.startsWith("missing")) {
      message = `${message} (got ${describeReceived(received)})`;
    }
    out.push(diagnosticAt(source, path, message));
  }
  if (total > out.length) {
    out.push({ file: source.file, line: 1, col: 1, path: "(document)", message: `${total - out.length} more problems not shown; expected the ones above fixed first`, summary: true });
  }
  return out;
}

/** Aliases a config may expand to: far more than any real one uses, far fewer than a "billion laughs". */
const maxAliasCount = 100;

/** Parses and schema-checks one file. */
export function validateSource<S extends z.ZodType>(schema: S, file: string, text: string): Parsed<z.output<S>> {
  const { source, diagnostics } = parseYamlSource(file, text);
  if (!source) return { ok: false, diagnostics };
  let data: unknown;
  try {
    data = source.doc.toJS({ maxAliasCount });
  } catch (error) {
    // The yaml package refuses to expand an alias bomb; say where the first alias is.
    const alias = /\*[A-Za-z0-9_-]+/.exec(source.doc.toString({ lineWidth: 0 }))?.[0];
    const offset = alias ? text.indexOf(alias) : 0;
    const { line, col } = source.lines.linePos(Math.max(0, offset));
    const why = (error as Error).message.split("\n")[0];
    return { ok: false, diagnostics: [{ file, line, col, path: "(document)", message: `aliases expand too far (${why}); expected plain YAML without alias bombs` }], source };
  }
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, value: result.data, source };
  return { ok: false, diagnostics: schemaDiagnostics(schema, source, data, result.error.issues), source };
}

export function positioned(source: SourceFile, problems: Problem[]): Diagnostic[] {
  return problems.map((p) => diagnosticAt(source, p.path, p.message));
}
