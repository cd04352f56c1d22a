/**
 * The length of every function in src/, from the line its parameters open to the line its body
 * closes (nested functions count inside their parent too, as an AST pass counts them). The
 * project has no TypeScript AST at hand (tsc 7 is native), so this is a small lexer that knows
 * strings, template literals (with `${}` code inside), comments and regex literals, and finds a
 * function body as the `{` after `=>`, after a parameter list `(...)` that no `if`/`for`/
 * `while`/`switch`/`catch` heads, or after such a list's return type.
 * `bun scripts/function-length.ts [--max N] [--src=DIR]` prints the longest; exit 1 when one is over N.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

/** Shell scripts written as template literals, not logic: the three completion scripts. */
export const exempt = ["completion/bash.ts", "completion/zsh.ts", "completion/fish.ts"];

interface Token {
  text: string;
  line: number;
  /** Index of the matching bracket, for ( ) [ ] { }. */
  match?: number;
}

const punctuators = ["=>", "...", "?.", "??", "||", "&&", "===", "!==", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=", "++", "--"];
const regexAfter = new Set([
  "(",
  ",",
  "=",
  ":",
  "[",
  "!",
  "&",
  "|",
  "?",
  "{",
  "}",
  ";",
  "+",
  "-",
  "*",
  "%",
  "<",
  ">",
  "~",
  "^",
  "=>",
  "||",
  "&&",
  "??",
  "==",
  "===",
  "!=",
  "!==",
  "return",
  "typeof",
  "case",
  "do",
  "else",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "yield",
  "await",
]);

/** Tokens of a TypeScript source: identifiers, numbers, punctuation; strings, templates and regexes as one token each. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  // Each entry: a `${` code level inside a template, holding its own brace depth.
  const templateDepths: number[] = [];
  let line = 1;
  let i = 0;
  const push = (text: string, startLine: number) => tokens.push({ text, line: startLine });
  const readTemplate = () => {
    // At a template's text (just after ` or after the } closing a `${`): up to ` or `${`.
    const start = line;
    while (i < source.length) {
      const c = source[i]!;
      if (c === "\\") i += 2;
      else if (c === "`") {
        i += 1;
        push("`template`", start);
        return;
      } else if (c === "$" && source[i + 1] === "{") {
        i += 2;
        push("`template`", start);
        templateDepths.push(0);
        return;
      } else {
        if (c === "\n") line += 1;
        i += 1;
      }
    }
  };
  while (i < source.length) {
    const c = source[i]!;
    if (c === "\n") {
      line += 1;
      i += 1;
    } else if (/\s/.test(c)) i += 1;
    else if (c === "/" && source[i + 1] === "/") while (i < source.length && source[i] !== "\n") i += 1;
    else if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end < 0 ? source.length : end + 2;
      line += source.slice(i, stop).split("\n").length - 1;
      i = stop;
    } else if (c === '"' || c === "'") {
      const start = line;
      i += 1;
      while (i < source.length && source[i] !== c) i += source[i] === "\\" ? 2 : 1;
      i += 1;
      push("'string'", start);
    } else if (c === "`") {
      i += 1;
      readTemplate();
    } else if (c === "/" && (tokens.length === 0 || regexAfter.has(tokens.at(-1)!.text))) {
      const start = line;
      let inClass = false;
      i += 1;
      while (i < source.length && (source[i] !== "/" || inClass)) {
        if (source[i] === "\\") i += 1;
        else if (source[i] === "[") inClass = true;
        else if (source[i] === "]") inClass = false;
        i += 1;
      }
      i += 1;
      while (/[a-z]/i.test(source[i] ?? "")) i += 1;
      push("/regex/", start);
    } else if (/[A-Za-z_$0-9]/.test(c)) {
      const match = /^[A-Za-z_$0-9.]+/.exec(source.slice(i, i + 200))![0];
      // A member chain `a.b` stays apart: a dot is its own token.
      const word = /^\d/.test(match) ? match : match.split(".")[0]!;
      push(word, line);
      i += word.length;
    } else if (c === "{" && templateDepths.length > 0) {
      templateDepths[templateDepths.length - 1]! += 1;
      push("{", line);
      i += 1;
    } else if (c === "}" && templateDepths.length > 0 && templateDepths.at(-1) === 0) {
      templateDepths.pop();
      i += 1;
      readTemplate();
    } else {
      if (c === "}" && templateDepths.length > 0) templateDepths[templateDepths.length - 1]! -= 1;
      const op = punctuators.find((p) => source.startsWith(p, i)) ?? c;
      push(op, line);
      i += op.length;
    }
  }
  matchBrackets(tokens);
  return tokens;
}

function matchBrackets(tokens: Token[]): void {
  const open: number[] = [];
  const pairs: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
  tokens.forEach((token, index) => {
    if (token.text === "(" || token.text === "[" || token.text === "{") open.push(index);
    else if (pairs[token.text]) {
      const from = open.pop();
      if (from === undefined || tokens[from]!.text !== pairs[token.text]) return;
      tokens[from]!.match = index;
      token.match = from;
    }
  });
}

const controlHeads = new Set(["if", "for", "while", "switch", "catch", "with"]);
/** Words that end a statement or open a declaration: never part of a return type. */
const notInTypes = new Set([
  "class",
  "interface",
  "enum",
  "namespace",
  "const",
  "let",
  "var",
  "return",
  "export",
  "import",
  "new",
  "else",
  "do",
  "try",
  "finally",
  "case",
  "default",
  "throw",
  "await",
  "yield",
]);
const typeTokens = /^(?:[A-Za-z_$][\w$]*|\d+|'string'|[<>[\]|&.,?]|=>|`template`)$/;

export interface FunctionLength {
  name: string;
  line: number;
  lines: number;
}

/** Index of the `(` whose parameter list this body `{` belongs to, or -1 when the `{` is no function body. */
function paramsOpen(tokens: Token[], brace: number): number {
  let i = brace - 1;
  if (tokens[i]?.text === "=>") {
    const before = tokens[i - 1];
    return before?.text === ")" ? before.match! : i - 1;
  }
  if (tokens[i]?.text !== ")") {
    // A return type: type tokens back to a `:` right after the parameter list's `)`.
    let depth = 0;
    for (; i >= 0; i--) {
      const t = tokens[i]!.text;
      if (notInTypes.has(t)) return -1;
      if ((t === "}" || t === ")") && tokens[i]!.match !== undefined) {
        // In a type, a `{…}` or `(…)` group is followed by an operator, never by a word (`} class`).
        if (/^[A-Za-z_$]/.test(tokens[i + 1]?.text ?? "")) return -1;
        i = tokens[i]!.match!;
        continue;
      }
      if (t === ">") depth += 1;
      else if (t === "<") depth -= 1;
      else if (t === ":" && depth === 0) break;
      else if (!typeTokens.test(t)) return -1;
    }
    if (i === brace - 1 || tokens[i - 1]?.text !== ")") return -1;
    i -= 1;
  }
  const open = tokens[i]!.match;
  if (open === undefined) return -1;
  const head = tokens[open - 1]?.text;
  if (head && controlHeads.has(head)) return -1;
  if (tokens[open - 2]?.text === "extends") return -1;
  return open;
}

function nameAt(tokens: Token[], open: number): string {
  const head = tokens[open - 1]?.text ?? "";
  if (/^[A-Za-z_$][\w$]*$/.test(head) && head !== "function" && head !== "async") return head;
  // `const name = (…) => {`, `name: (…) => {`, `name = async (…) => {`
  for (let i = open - 1; i >= Math.max(0, open - 4); i--) {
    if ((tokens[i]!.text === "=" || tokens[i]!.text === ":") && /^[A-Za-z_$][\w$]*$/.test(tokens[i - 1]?.text ?? "")) return tokens[i - 1]!.text;
  }
  return "<anonymous>";
}

export function functionLengths(source: string): FunctionLength[] {
  const tokens = tokenize(source);
  const found: FunctionLength[] = [];
  tokens.forEach((token, index) => {
    if (token.text !== "{" || token.match === undefined) return;
    const open = paramsOpen(tokens, index);
    if (open < 0) return;
    const line = tokens[open]!.line;
    found.push({ name: nameAt(tokens, open), line, lines: tokens[token.match]!.line - line + 1 });
  });
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Every function of src/ outside the exempt files, longest first. */
export function srcFunctionLengths(srcDir: string): (FunctionLength & { file: string })[] {
  return sourceFiles(srcDir)
    .map((path) => relative(srcDir, path))
    .filter((file) => !exempt.includes(file))
    .flatMap((file) => functionLengths(readFileSync(join(srcDir, file), "utf8")).map((f) => ({ ...f, file })))
    .sort((a, b) => b.lines - a.lines);
}

if (import.meta.main) {
  const maxIndex = process.argv.indexOf("--max");
  const max = maxIndex >= 0 ? Number(process.argv[maxIndex + 1]) : 60;
  const srcArg = process.argv.find((a) => a.startsWith("--src="));
  const all = srcFunctionLengths(resolve(srcArg ? srcArg.slice("--src=".length) : join(import.meta.dir, "../src")));
  const over = all.filter((f) => f.lines > max);
  const lines = [
    `${all.length} functions in src/ (${exempt.join(", ")} exempt); ${over.length} over ${max} lines`,
    ...all.slice(0, Math.max(15, over.length)).map((f) => `  ${String(f.lines).padStart(4)}  src/${f.file}:${f.line} ${f.name}`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  process.exitCode = over.length > 0 ? 1 : 0;
}
