/**
 * Two whitelisted Ray services started together, ten up/down rounds: never two heads.
 * This host has no GPU, so ray-gpu is forced on and its device reservation is dropped by a
 * compose.override.yaml next to config.yaml (picked up by `cslr up` after _build/compose.yaml).
 * Two heads are seen where they would hurt: both head ports answer, at once, as a live head
 * (the stand-in's STATUS reply, which Docker's port proxy cannot fake).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeE2E } from "./lib/engine.ts";
import { currentWorkers, expectOk, Stack } from "./lib/stack.ts";

const rounds = 10;

describeE2E("e2e: two whitelisted nodes started together", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = new Stack({ label: "rounds", whitelist: ["ray-cpu", "ray-gpu"], gpu: true, workers: 2, leaseTtl: 3 });
    expectOk(await stack.init(), "cslr init");
    writeFileSync(join(stack.dir, "compose.override.yaml"), "services:\n  ray-gpu:\n    deploy: !reset null\n");
  }, 180_000);
  afterAll(async () => {
    await stack?.destroy();
  }, 180_000);

  test(`${rounds} up/down rounds: one head at every moment, distinct worker names`, async () => {
    const overlaps: string[] = [];
    const headsByTerm = new Map<number, Set<string>>();
    for (let round = 1; round <= rounds; round++) {
      let sampling = true;
      let sawOneHead = false;
      const sampler = (async () => {
        while (sampling) {
          const [cpu, gpu, roster] = await Promise.all([stack.headAt(stack.ports.cpu.head), stack.headAt(stack.ports.gpu.head), stack.roster()]);
          if (cpu && gpu) overlaps.push(`round ${round}: ${cpu} and ${gpu} both answer as head`);
          if (Boolean(cpu) !== Boolean(gpu)) sawOneHead = true;
          if (roster?.head) headsByTerm.set(roster.head.term, (headsByTerm.get(roster.head.term) ?? new Set()).add(roster.head.node));
        }
      })();
      try {
        expectOk(await stack.cli(["up", "-d", "--wait"], 120_000), `round ${round}: cslr up -d --wait`);
        const roster = await stack.waitFor(`round ${round}: a head and three workers`, 60_000, async () => {
          const r = await stack.roster();
          // Each round makes new worker containers (new hostnames); earlier rounds' entries stay in the roster.
          return r?.head && currentWorkers(r).length === 3 ? r : undefined;
        });
        expect(["ray-cpu", "ray-gpu"]).toContain(roster.head!.node);
        const names = currentWorkers(roster).map((w) => w.node);
        expect(new Set(names).size).toBe(3);
        expect(names).not.toContain(roster.head!.node);
        expectOk(await stack.cli(["down"], 120_000), `round ${round}: cslr down`);
      } finally {
        sampling = false;
        await sampler;
      }
      // The detector works: in every round it saw exactly one live head port at some moment.
      expect({ round, sawOneHead }).toEqual({ round, sawOneHead: true });
    }
    expect(overlaps).toEqual([]);
    for (const [term, nodes] of headsByTerm) expect({ term, heads: nodes.size }).toEqual({ term, heads: 1 });
  }, 540_000);
});
