/**
 * The import graph of src/: every `import … from`, `export … from` and `import()` between its
 * files, checked against the declared layer order below. Prints the cycles (between files, and
 * between folders) and the upward arrows (a file importing a layer above its own), then exits 1
 * when there is any. `bun scripts/import-graph.ts [--json] [--src=DIR]`; test/import-graph.test.ts holds it at 0.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** Lowest first: a file may import its own layer or any layer before it, never one after. */
export const layers: string[][] = [
  ["errors.ts", "log.ts", "json.ts", "checks.ts", "files.ts", "types.d.ts"],
  ["host"],
  ["config"],
  ["election"],
  ["render", "node", "join", "jobs"],
  ["compose"],
  ["status", "clustertest"],
  ["stack"],
  ["doctor", "secrets", "completion", "docs", "args.ts", "dispatch.ts"],
  ["commands"],
  ["cli.ts", "main.ts"],
];

export interface Edge {
  from: string;
  to: string;
  line: number;
  dynamic: boolean;
}

/** The unit a file belongs to: its top folder under src/, or the file itself at the root. */
export function unitOf(file: string): string {
  return file.split("/")[0]!;
}

export function layerOf(file: string): number {
  const unit = unitOf(file);
  const index = layers.findIndex((names) => names.includes(unit));
  if (index < 0) throw new Error(`src/${file}: ${unit} has no layer in scripts/import-graph.ts; add it to the layer order`);
  return index;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

const importPattern = /(?:^|[^.\w])(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']|(?:^|[^.\w])import\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;

/** The edges of one file's source text to other files of src/ (packages and JSON are left out). */
export function edgesOf(file: string, text: string, srcDir: string): Edge[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " ")).replace(/^\s*\/\/.*$/gm, "");
  const edges: Edge[] = [];
  for (const match of code.matchAll(importPattern)) {
    const spec = match[1] ?? match[2] ?? match[3]!;
    if (!spec.startsWith(".") || !/\.tsx?$/.test(spec)) continue;
    const target = relative(srcDir, resolve(srcDir, dirname(file), spec));
    if (target.startsWith("..")) continue;
    // The match may start with the character before the keyword (a newline): count from the keyword.
    const keyword = match.index + match[0].search(/import|export/);
    const line = code.slice(0, keyword).split("\n").length;
    edges.push({ from: file, to: target, line, dynamic: match[3] !== undefined });
  }
  return edges;
}

export function importGraph(srcDir: string): Edge[] {
  return sourceFiles(srcDir).flatMap((path) => edgesOf(relative(srcDir, path), readFileSync(path, "utf8"), srcDir));
}

/** Strongly connected components with more than one member (Tarjan), over any node naming. */
export function cyclesOf(pairs: [string, string][]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const [a, b] of pairs) {
    if (a === b) continue;
    if (!next.has(a)) next.set(a, new Set());
    if (!next.has(b)) next.set(b, new Set());
    next.get(a)!.add(b);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const to of next.get(node)!) {
      if (!index.has(to)) visit(to);
      if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!, low.get(to)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    for (let member = stack.pop()!; ; member = stack.pop()!) {
      onStack.delete(member);
      component.push(member);
      if (member === node) break;
    }
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of next.keys()) if (!index.has(node)) visit(node);
  return found;
}

export interface GraphReport {
  edges: number;
  fileCycles: string[][];
  folderCycles: string[][];
  upward: Edge[];
}

export function checkGraph(edges: Edge[]): GraphReport {
  return {
    edges: edges.length,
    fileCycles: cyclesOf(edges.map((e) => [e.from, e.to])),
    folderCycles: cyclesOf(edges.map((e) => [unitOf(e.from), unitOf(e.to)])),
    upward: edges.filter((e) => layerOf(e.to) > layerOf(e.from)),
  };
}

if (import.meta.main) {
  const srcArg = process.argv.find((a) => a.startsWith("--src="));
  const srcDir = resolve(srcArg ? srcArg.slice("--src=".length) : join(import.meta.dir, "../src"));
  const report = checkGraph(importGraph(srcDir));
  if (process.argv.includes("--json")) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const lines = [
      `${report.edges} imports between files of src/`,
      `file cycles: ${report.fileCycles.length}`,
      ...report.fileCycles.map((c) => `  ${c.join(" ↔ ")}`),
      `folder cycles: ${report.folderCycles.length}`,
      ...report.folderCycles.map((c) => `  ${c.join(" ↔ ")}`),
      `upward arrows: ${report.upward.length}`,
      ...report.upward.map((e) => `  src/${e.from}:${e.line} → src/${e.to}${e.dynamic ? " (dynamic)" : ""}`),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  process.exitCode = report.fileCycles.length + report.folderCycles.length + report.upward.length > 0 ? 1 : 0;
}
