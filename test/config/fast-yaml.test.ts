import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import { fastParseMapping, isPlainBlockYamlWithoutDuplicates } from "../../src/config/fast-yaml.ts";
import { embeddedExamples } from "../../src/config/load.ts";

describe("isPlainBlockYamlWithoutDuplicates", () => {
  test.each([
    ["the example config", embeddedExamples.config, true],
    ["the example nodes", embeddedExamples.nodes, true],
    ["a duplicate top-level key", "a: 1\nb: 2\na: 3\n", false],
    ["a duplicate nested key", "s:\n  r:\n    port: 1\n    port: 2\n", false],
    ["equal keys under different parents", "a:\n  x: 1\nb:\n  x: 2\n", true],
    ["equal keys in two list items", "l:\n  - name: a\n    port: 1\n  - name: b\n    port: 2\n", true],
    ["a duplicate key inside one list item", "l:\n  - name: a\n    name: b\n", false],
    ["a duplicate after a deeper block", "a:\n  b:\n    c: 1\n  d: 2\n  b: 3\n", false],
    ["a flow mapping", "a: {x: 1, x: 2}\n", false],
    ["an anchor", "a: &x 1\nb: *x\n", false],
    ["a block scalar", "a: |\n  text\n", false],
    ["a quoted key", '"a": 1\na: 2\n', false],
    ["a one-line flow list", "head_whitelist: [ray-cpu, ray-gpu]  # c\n", true],
    ["a flow list over two lines", "l: [a,\n  b]\n", false],
    ["a quoted value with # and :", 'a: "x: #y"  # comment\n', true],
    ["a multi-line plain scalar", "a: one\n  two\n", false],
    ["a document marker", "---\na: 1\n", false],
  ])("%s → %p", (_name, text, plain) => {
    expect(isPlainBlockYamlWithoutDuplicates(text)).toBe(plain);
  });
});

test("the fast path gives the same data as the yaml package for the examples", () => {
  for (const text of [embeddedExamples.config, embeddedExamples.nodes]) {
    expect(fastParseMapping(text)).toEqual(parse(text));
  }
});

test("the fast path declines what is not a mapping", () => {
  expect(fastParseMapping("- a\n- b\n")).toBeUndefined();
  expect(fastParseMapping("")).toBeUndefined();
  expect(fastParseMapping("just text\n")).toBeUndefined();
});
