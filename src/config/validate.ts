/**
 * Pure validation with positions: YAML text → typed config or every problem at once, each
 * with its line and column (the slow path of loading, and `health serve --nodes`).
 */
import { isAlias, isCollection, isMap, isPair, isScalar, LineCounter, parseDocument, visit, type Document } from "yaml";
import type { z } from "zod";
import type { Diagnostic, PathSegment } from "./config-error.ts";
import { diagnosticAt, diagnosticAtKey, type SourceFile } from "./diagnostics.ts";
import type { Problem } from "./rules.ts";
import { closestMatch } from "./suggest.ts";

export type Parsed<T> = { ok: true; value: T; source: SourceFile } | { ok: false; diagnostics: Diagnostic[]; source?: SourceFile };

/** Flow collections (`[`, `{`) nested deeper than this are refused before parsing: the parser's time grows with the square of the depth. */
export const maxFlowDepth = 64;

/** Where `offset` is, 1-based, counted the way the yaml package counts (LF ends a line). */
function positionOf(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, col: offset - before.lastIndexOf("\n") };
}

/**
 * What the text holds that YAML would take apart silently or the parser chokes on, found by a
 * scan before parsing: a line break inside a line (a lone CR, U+2028, U+2029, NEL) and flow
 * collections nested past maxFlowDepth (quotes and comments skipped).
 */
function scanText(file: string, text: string): Diagnostic | undefined {
  const breakAt = /\r(?!\n)|[\u2028\u2029\u0085]/.exec(text);
  if (breakAt) {
    const names: Record<string, string> = {
      "\r": "a carriage return (CR)",
      "\u2028": "a line separator (U+2028)",
      "\u2029": "a paragraph separator (U+2029)",
      "\u0085": "a next-line character (U+0085)",
    };
    return {
      file,
      ...positionOf(text, breakAt.index),
      path: "(document)",
      message: `${names[breakAt[0]]} inside a line; expected lines that end in LF (or CRLF) only`,
    };
  }
  let depth = 0;
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = "";
      else if (c === "\n") quote = quote === "'" || quote === '"' ? quote : "";
      continue;
    }
    if (c === "#" && (i === 0 || /\s/.test(text[i - 1]!))) {
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end;
    } else if ((c === '"' || c === "'") && (i === 0 || /[\s[{,:]/.test(text[i - 1]!))) {
      quote = c;
    } else if (c === "[" || c === "{") {
      if (++depth > maxFlowDepth) {
        return {
          file,
          ...positionOf(text, i),
          path: "(document)",
          message: `flow collections nested more than ${maxFlowDepth} deep; expected a flatter config`,
        };
      }
    } else if ((c === "]" || c === "}") && depth > 0) {
      depth--;
    }
  }
  return undefined;
}

/**
 * Aliases whose anchor is missing, alias keys and merge keys: each refused with its position.
 * An alias key (`*m : …`) escapes the duplicate-key check and can replace a block written
 * above it; a merge key (`<<: *b`) can override keys written beside it.
 */
function aliasProblems(doc: Document.Parsed, lines: LineCounter, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (offset: number | undefined, message: string) => out.push({ file, ...lines.linePos(offset ?? 0), path: "(document)", message });
  visit(doc, {
    Alias(_key, alias) {
      if (alias.resolve(doc) === undefined)
        at(alias.range?.[0], `alias *${alias.source} has no anchor &${alias.source} above it; expected an anchor defined before its alias`);
    },
    Pair(_key, pair) {
      if (isAlias(pair.key)) at(pair.key.range?.[0], `an alias (*${pair.key.source}) as a key; expected a plain key`);
      else if (isCollection(pair.key)) at(pair.key.range?.[0], "a mapping or list as a key; expected a plain key");
      else if (isScalar(pair.key) && pair.key.value === "<<" && pair.key.type === "PLAIN")
        at(pair.key.range?.[0], "a merge key (<<); expected the keys written out");
    },
  });
  return out;
}

/** Parses YAML text into a document whose top level is a mapping. */
export function parseYamlSource(file: string, text: string): { source?: SourceFile; diagnostics: Diagnostic[] } {
  const early = scanText(file, text);
  if (early) return { diagnostics: [early] };
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
  const errors =
    syntax.length > 0 ? syntax : [...aliasProblems(doc, lines, file), ...duplicateKeys(doc, lines, file)].sort((a, b) => a.line - b.line || a.col - b.col);
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
    out.push({
      file: source.file,
      line: 1,
      col: 1,
      path: "(document)",
      message: `${total - out.length} more problems not shown; expected the ones above fixed first`,
      summary: true,
    });
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
    return {
      ok: false,
      diagnostics: [{ file, line, col, path: "(document)", message: `aliases expand too far (${why}); expected plain YAML without alias bombs` }],
      source,
    };
  }
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, value: result.data, source };
  return { ok: false, diagnostics: schemaDiagnostics(schema, source, data, result.error.issues), source };
}

export function positioned(source: SourceFile, problems: Problem[]): Diagnostic[] {
  return problems.map((p) => diagnosticAt(source, p.path, p.message));
}
