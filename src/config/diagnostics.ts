/**
 * Positioned configuration problems: `FILE:LINE:COL  path.to.field  what is wrong; what is expected`.
 * Positions come from the `yaml` parser's node ranges, so every problem points at the line to edit.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, type Document, type Node } from "yaml";
import { dottedPath, type Diagnostic, type PathSegment } from "./config-error.ts";

/** A parsed YAML file with what is needed to turn a field path into a line and column. */
export interface SourceFile {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

/** The YAML node at `path`, or the deepest existing ancestor (a missing field points at its parent). */
function nodeAt(doc: Document.Parsed, path: readonly PathSegment[]): Node | undefined {
  let node: unknown = doc.contents;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) return node;
      node = pair.value ?? pair.key;
    } else if (isSeq(node) && typeof segment === "number" && node.items[segment] !== undefined) {
      node = node.items[segment];
    } else {
      break;
    }
  }
  return (node as Node | null) ?? undefined;
}

/** The key node of `key` inside the map at `path`: unknown keys are reported where they are written. */
function keyNodeAt(doc: Document.Parsed, path: readonly PathSegment[], key: string): Node | undefined {
  const parent = nodeAt(doc, path);
  if (!isMap(parent)) return parent;
  const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
  return (pair?.key as Node | undefined) ?? parent;
}

function position(source: SourceFile, node: Node | undefined): { line: number; col: number } {
  const offset = node?.range?.[0];
  if (offset === undefined) return { line: 1, col: 1 };
  return source.lines.linePos(offset);
}

export function diagnosticAt(source: SourceFile, path: readonly PathSegment[], message: string): Diagnostic {
  const { line, col } = position(source, nodeAt(source.doc, path));
  return { file: source.file, line, col, path: dottedPath(path), message };
}

export function diagnosticAtKey(source: SourceFile, parentPath: readonly PathSegment[], key: string, message: string): Diagnostic {
  const { line, col } = position(source, keyNodeAt(source.doc, parentPath, key));
  return { file: source.file, line, col, path: dottedPath([...parentPath, key]), message };
}
