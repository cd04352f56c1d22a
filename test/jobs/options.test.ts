import { describe, expect, test } from "bun:test";
import { UsageError } from "../../src/errors.ts";
import {
  commandAfterDashDash,
  parseEnvPairs,
  parseExperiment,
  parseMemory,
  parseNamePrefix,
  parseResourceAmount,
  repeatedOption,
} from "../../src/jobs/options.ts";

describe("cslr run's option values", () => {
  test("--env is collected from every occurrence before --, in order", () => {
    const raw = ["--env", "A=1", "--cpus", "2", "--env=B=x=y", "--", "python", "--env", "C=3"];
    expect(repeatedOption(raw, "env")).toEqual(["A=1", "B=x=y"]);
    expect(parseEnvPairs(repeatedOption(raw, "env"))).toEqual([
      ["A", "1"],
      ["B", "x=y"],
    ]);
    expect(commandAfterDashDash(raw)).toEqual(["python", "--env", "C=3"]);
  });

  test.each([["no-equals"], ["1A=x"], ["A-B=x"], ["=x"]])("--env %p is bad usage", (pair) => {
    expect(() => parseEnvPairs([pair])).toThrow(UsageError);
  });

  test("an empty value is a value", () => {
    expect(parseEnvPairs(["EMPTY="])).toEqual([["EMPTY", ""]]);
  });

  test("no command after -- is bad usage with the fix", () => {
    expect(() => commandAfterDashDash(["python", "x.py"])).toThrow("cslr run: no command to run; put it after --, like cslr run -- python train.py");
    expect(() => commandAfterDashDash(["--"])).toThrow(UsageError);
  });

  test.each([
    ["2", 2],
    ["0.5", 0.5],
    ["0", 0],
  ])("--cpus %p → %p", (value, expected) => {
    expect(parseResourceAmount("--cpus", value)).toBe(expected);
  });

  test.each([["-1"], ["two"], ["1e3"], [""], ["Infinity"]])("--gpus %p is bad usage", (value) => {
    expect(() => parseResourceAmount("--gpus", value)).toThrow(`--gpus ${value}: expected a number like 1, 2 or 0.5`);
  });

  test.each([
    ["1024", 1024],
    ["512m", 512 * 1024 ** 2],
    ["8g", 8 * 1024 ** 3],
    ["8GiB", 8 * 1024 ** 3],
    ["1.5gb", 1.5 * 1024 ** 3],
  ])("--memory %p → %p bytes (an integer, as Ray wants)", (value, bytes) => {
    expect(parseMemory(value)).toBe(bytes);
  });

  test.each([["lots"], ["-1g"], ["8x"]])("--memory %p is bad usage", (value) => {
    expect(() => parseMemory(value)).toThrow(UsageError);
  });

  test("--name: a safe prefix or bad usage", () => {
    expect(parseNamePrefix(undefined, "raysubmit")).toBe("raysubmit");
    expect(parseNamePrefix("sweep-3_a", "raysubmit")).toBe("sweep-3_a");
    for (const bad of ["../x", "a b", "-x", "x".repeat(49), "a/b"]) expect(() => parseNamePrefix(bad, "r")).toThrow(UsageError);
  });

  test("--experiment defaults to the project name and may not be empty", () => {
    expect(parseExperiment(undefined, "proj")).toBe("proj");
    expect(parseExperiment("ablation", "proj")).toBe("ablation");
    expect(() => parseExperiment(" ", "proj")).toThrow(UsageError);
  });
});
