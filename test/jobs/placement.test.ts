import { describe, expect, test } from "bun:test";
import { driverLabelSelector, placementSummarySchema } from "../../src/jobs/placement.ts";

const id = (c: string) => c.repeat(56);
const node = (nodeId: string, isHeadNode: boolean, state = "ALIVE", labels?: Record<string, string>) => ({ raylet: { nodeId, state, isHeadNode, labels } });
const summary = (...nodes: ReturnType<typeof node>[]) => placementSummarySchema.parse({ data: { summary: nodes } });

describe("where cslr run asks Ray to put a job's driver", () => {
  test("a node that can never be head alive: there (a whitelisted node restarts its Ray when it becomes head)", () => {
    const s = summary(
      node(id("a"), true, "ALIVE", { "cslr.io/head-candidate": "true" }),
      node(id("b"), false, "ALIVE", { "cslr.io/head-candidate": "true" }),
      node(id("c"), false, "ALIVE", { "cslr.io/head-candidate": "false" }),
    );
    expect(driverLabelSelector(s)).toEqual({ "cslr.io/head-candidate": "false" });
  });

  test("only head candidates besides the head (or nodes without cslr's label): anywhere but the head", () => {
    expect(driverLabelSelector(summary(node(id("a"), true), node(id("b"), false)))).toEqual({ "ray.io/node-id": `!${id("a")}` });
    const deadWorker = summary(
      node(id("a"), true),
      node(id("b"), false, "ALIVE", { "cslr.io/head-candidate": "true" }),
      node(id("c"), false, "DEAD", { "cslr.io/head-candidate": "false" }),
    );
    expect(driverLabelSelector(deadWorker)).toEqual({ "ray.io/node-id": `!${id("a")}` });
  });

  test("the head alone, or no head in the answer: Ray's default", () => {
    expect(driverLabelSelector(summary(node(id("a"), true)))).toBeUndefined();
    expect(driverLabelSelector(summary(node(id("b"), false)))).toBeUndefined();
  });

  test("a node id that is not Ray's (56 hex digits) is not believed", () => {
    expect(placementSummarySchema.safeParse({ data: { summary: [node('a"}, {', true)] } }).success).toBe(false);
  });
});
