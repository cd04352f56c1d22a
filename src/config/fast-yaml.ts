/**
 * The fast path for the common case: a config written in plain block style parses with Bun's
 * native YAML parser (~0.2 ms, where the `yaml` package needs ~10 ms in a cold process).
 * Bun's parser keeps the last of two equal keys silently, so the text is first scanned for
 * duplicate keys; anything the scan does not fully understand (flow mappings, anchors, tags,
 * block scalars, quoted keys, multi-line values) goes to the slow path, which has positions.
 */

const keyLine = /^([A-Za-z0-9_][A-Za-z0-9_.-]*) *:(?: +(.*))?$/;
const unsafeValueStart = /^[{&*!|>%@`]/;

/** A value (after `key: ` or `- `) the scan understands: a scalar or a one-line flow list. */
function isSimpleValue(raw: string): boolean {
  let value = raw.trim();
  if (value === "" || value.startsWith("#")) return true;
  const quote = value[0];
  if (quote === '"' || quote === "'") {
    const end = value.indexOf(quote, 1);
    if (end < 0) return false;
    value = value.slice(end + 1).trim();
    return value === "" || value.startsWith("#");
  }
  if (unsafeValueStart.test(value) || value.includes("{")) return false;
  // One flat list only: nested lists go to the slow path, which bounds their depth.
  if (value.startsWith("[")) return value.indexOf("[", 1) < 0 && value.replace(/\s+#.*$/, "").endsWith("]");
  return true;
}

interface Frame {
  column: number;
  keys: Set<string>;
}

/** True when the text is plain block YAML whose mappings have no repeated key. */
export function isPlainBlockYamlWithoutDuplicates(text: string): boolean {
  // A line break other than LF (or CRLF's CR) is the slow path's to report, with its position.
  if (/\r(?!\n)|[\u2028\u2029\u0085]/.test(text)) return false;
  const frames: Frame[] = [];
  for (const rawLine of text.split("\n")) {
    const line = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine;
    if (/^ *(#.*)?$/.test(line)) continue;
    const match = /^( *)((?:- +)*)(.*)$/.exec(line)!;
    const [, indent = "", dashes = "", rest = ""] = match;
    const column = indent.length + dashes.length;
    const key = keyLine.exec(rest);
    if (!key) {
      // A sequence item that is a scalar; anything else (continuations, markers) is not plain.
      if (dashes === "" || !isSimpleValue(rest)) return false;
      continue;
    }
    if (key[2] !== undefined && !isSimpleValue(key[2])) return false;
    while (frames.length > 0 && frames.at(-1)!.column > column) frames.pop();
    // `- key:` opens a new mapping (a new list item) even at a column seen before.
    if (dashes !== "" && frames.at(-1)?.column === column) frames.pop();
    const top = frames.at(-1);
    if (top?.column === column) {
      if (top.keys.has(key[1]!)) return false;
      top.keys.add(key[1]!);
    } else {
      frames.push({ column, keys: new Set([key[1]!]) });
    }
  }
  return true;
}

/** The parsed mapping, or undefined when the slow path must decide (errors, odd syntax, duplicates). */
export function fastParseMapping(text: string): Record<string, unknown> | undefined {
  if (!isPlainBlockYamlWithoutDuplicates(text)) return undefined;
  try {
    const value = Bun.YAML.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
