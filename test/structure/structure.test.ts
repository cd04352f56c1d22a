/**
 * The shape of src/: no import cycle, no arrow up the declared layer order
 * (scripts/import-graph.ts), and no function over 60 lines outside the completion scripts
 * (scripts/function-length.ts). The scanners are tested on known snippets first, so a scanner
 * that saw nothing could not pass.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { functionLengths, srcFunctionLengths } from "../../scripts/function-length.ts";
import { checkGraph, cyclesOf, edgesOf, importGraph, layerOf } from "../../scripts/import-graph.ts";
import { repoRoot } from "../helpers/cli.ts";

const srcDir = join(repoRoot, "src");

describe("the import graph scanner", () => {
  test("reads static, re-exported, type-only and dynamic imports, and leaves packages and comments out", () => {
    const text = [
      'import { a } from "./a.ts";',
      'import type { B } from "../config/b.ts";',
      'export { c } from "./c.ts";',
      'import {\n  d,\n  e,\n} from "./d.ts";',
      'const f = await import("../jobs/f.ts");',
      'import { z } from "zod";',
      '// import { g } from "./g.ts";',
      '/* import { h } from "./h.ts"; */',
    ].join("\n");
    const edges = edgesOf("stack/x.ts", text, "/src");
    expect(edges.map((e) => [e.to, e.line, e.dynamic])).toEqual([
      ["stack/a.ts", 1, false],
      ["config/b.ts", 2, false],
      ["stack/c.ts", 3, false],
      ["stack/d.ts", 4, false],
      ["jobs/f.ts", 8, true],
    ]);
  });

  test("finds cycles of files and of folders", () => {
    expect(
      cyclesOf([
        ["a", "b"],
        ["b", "c"],
        ["c", "a"],
        ["c", "d"],
      ]),
    ).toEqual([["a", "b", "c"]]);
    expect(
      cyclesOf([
        ["a", "b"],
        ["b", "c"],
      ]),
    ).toEqual([]);
  });

  test("an import from a lower layer to a higher one is an upward arrow", () => {
    expect(layerOf("config/load.ts")).toBeLessThan(layerOf("stack/up.ts"));
    const report = checkGraph([{ from: "config/urls.ts", to: "status/view.ts", line: 3, dynamic: false }]);
    expect(report.upward).toHaveLength(1);
  });
});

describe("the function length scanner", () => {
  test("measures functions, methods and arrows, through return types, templates and regexes", () => {
    const text = [
      "export function one(a: string): Promise<{ x: number }> {", // 1
      "  if (a) {", //
      "    return 1;", //
      "  }", //
      "}", // 5: one is 5 lines
      "class K {", //
      "  method(x: number): void {", // 7
      "    const re = /[}{]/g;", //
      "    const t = `${[1].map((y) => {\n      return y;\n    })}}`;", // 9..11: an arrow of 3 lines
      "  }", // 12: method is 6 lines
      "}", //
      "const arrow = async (z: number) => {", // 14
      '  const s = "}";', //
      "};", // 16: arrow is 3 lines
    ].join("\n");
    expect(functionLengths(text).map((f) => [f.name, f.line, f.lines])).toEqual([
      ["one", 1, 5],
      ["method", 7, 6],
      ["<anonymous>", 9, 3],
      ["arrow", 14, 3],
    ]);
  });
});

describe("src/", () => {
  test("no import cycle, no upward arrow", () => {
    const edges = importGraph(srcDir);
    expect(edges.length).toBeGreaterThan(400);
    const report = checkGraph(edges);
    expect({ fileCycles: report.fileCycles, folderCycles: report.folderCycles, upward: report.upward }).toEqual({
      fileCycles: [],
      folderCycles: [],
      upward: [],
    });
  });

  test("no function over 60 lines outside the completion scripts", () => {
    const all = srcFunctionLengths(srcDir);
    expect(all.length).toBeGreaterThan(500);
    expect(all.filter((f) => f.lines > 60).map((f) => `src/${f.file}:${f.line} ${f.name} (${f.lines} lines)`)).toEqual([]);
  });
});
