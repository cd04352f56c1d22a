/** A bad config stops `cslr up` before Docker creates anything. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { describeE2E } from "./lib/engine.ts";
import { expectOk, Stack } from "./lib/stack.ts";

describeE2E("e2e: a bad config", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = new Stack({ label: "badconfig", whitelist: ["ray-cpu"], gpu: false, workers: 1 });
    expectOk(await stack.init(), "cslr init");
  }, 180_000);
  afterAll(async () => {
    await stack?.destroy();
  }, 180_000);

  const cases: [string, (config: any, nodes: any) => void, string][] = [
    ["a port out of range", (c) => (c.services.ray.cpu.head_port = 70000), "services.ray.cpu.head_port"],
    ["an empty whitelist", (_c, n) => (n.head_whitelist = []), "head_whitelist"],
    ["an unknown key", (c) => (c.services.ray.cpu.head_prot = 6379), "head_prot"],
  ];

  test.each(cases)(
    "%s: `cslr up -d` fails naming the field, and no container, network or volume exists",
    async (_name, breakIt, field) => {
      const config = stack.config();
      const nodes = stack.nodes();
      breakIt(config, nodes);
      writeFileSync(join(stack.dir, "config.yaml"), stringify(config));
      writeFileSync(join(stack.dir, "nodes.yaml"), stringify(nodes));
      const result = await stack.cli(["up", "-d"], 60_000);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(field);
      expect(stack.containers()).toEqual([]);
      expect(stack.volumes()).toEqual([]);
      const networks = Bun.spawnSync(["docker", "network", "ls", "-q", "--filter", `label=com.docker.compose.project=${stack.project}`]);
      expect(networks.stdout.toString().trim()).toBe("");
    },
    90_000,
  );
});
