/**
 * Worker port ranges on the host network (issue 18, item 6): each Ray node's range is the rest
 * of its block of `services.ray.host_ports.per_node` ports, and Ray's raylet refuses a worker
 * ("No available ports") when the range runs out. The default block fits a lab workstation's
 * CPUs; a block too small for a node's CPUs is refused with the per_node that fits.
 */
import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../src/config/config-error.ts";
import { modelFromTexts } from "../../src/config/load.ts";
import { workerPortsNeeded } from "../../src/config/ray-ports.ts";

const nodes = { file: "nodes.yaml", text: "head_whitelist: [ray-cpu, ray-gpu]\n" };

async function outcome(config: string, hostCpus: number, gpu = false) {
  try {
    return await modelFromTexts({ file: "config.yaml", text: `network:\n  mode: host\n${config}` }, nodes, () => gpu, "ws1", hostCpus);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split("\n");
    throw error;
  }
}

describe("worker port ranges on the host network", () => {
  test("Ray's need: two ports per CPU and 16 more (fractional CPUs round up)", () => {
    expect([workerPortsNeeded(1), workerPortsNeeded(8), workerPortsNeeded(2.5), workerPortsNeeded(64)]).toEqual([18, 32, 22, 144]);
  });

  test("the default block gives each node 290 worker ports, enough for a 128-CPU workstation", async () => {
    const model = await outcome("services:\n  ray:\n    workers: 1\n", 128, true);
    if (Array.isArray(model)) throw new Error(model.join("\n"));
    expect(model.rayNodes.map((n) => [n.service, n.workerPorts.min, n.workerPorts.max])).toEqual([
      ["ray-cpu", 20010, 20299],
      ["ray-gpu", 20310, 20599],
      ["ray-worker-1", 20610, 20899],
    ]);
  });

  test("the old default of 100 ports per node is refused on a 64-CPU host, with the per_node and the cpus that fit", async () => {
    expect(await outcome("services:\n  ray:\n    gpu:\n      enabled: false\n    host_ports:\n      per_node: 100\n", 64)).toEqual([
      'config.yaml:8:17  services.ray.host_ports.per_node  100 ports per node leave ray-cpu 90 worker ports; Ray needs 144 for this host\'s 64 CPUs (2 per CPU + 16), else jobs stall on "No available ports"; expected per_node at least 154, or services.ray.cpu.cpus at most 37',
    ]);
  });

  test("the default block on a 192-CPU host: refused, naming the host's count", async () => {
    const lines = await outcome("services:\n  ray:\n    gpu:\n      enabled: false\n", 192);
    expect(lines).toEqual([
      'config.yaml:5:5  services.ray.host_ports.per_node  300 ports per node leave ray-cpu 290 worker ports; Ray needs 400 for this host\'s 192 CPUs (2 per CPU + 16), else jobs stall on "No available ports"; expected per_node at least 410, or services.ray.cpu.cpus at most 137',
    ]);
  });

  test("a node's cpus limit counts, not the host's; the node with the most CPUs is named", async () => {
    const small = "services:\n  ray:\n    cpu:\n      cpus: 8\n    gpu:\n      enabled: true\n      cpus: 40\n    host_ports:\n      per_node: 60\n";
    expect(await outcome(small, 64, true)).toEqual([
      'config.yaml:11:17  services.ray.host_ports.per_node  60 ports per node leave ray-gpu 50 worker ports; Ray needs 96 for its 40 CPUs (2 per CPU + 16), else jobs stall on "No available ports"; expected per_node at least 106, or services.ray.gpu.cpus at most 17',
    ]);
    const fits = await outcome("services:\n  ray:\n    cpu:\n      cpus: 8\n    gpu:\n      enabled: false\n    host_ports:\n      per_node: 60\n", 64);
    expect(Array.isArray(fits)).toBe(false);
  });

  test("bridge networking pins its own wide range: no rule", async () => {
    const model = await modelFromTexts(
      { file: "config.yaml", text: "services:\n  ray:\n    gpu:\n      enabled: false\n    host_ports:\n      per_node: 20\n" },
      nodes,
      () => false,
      "ws1",
      256,
    );
    expect(model.rayNodes[0]!.workerPorts).toEqual({ min: 20000, max: 22999 });
  });
});
