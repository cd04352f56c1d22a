/**
 * CPU limits that fit the host: Docker refuses `cpus` above the engine's CPU count ("Range of
 * CPUs is from 0.01 to 2.00") only after it has created part of the stack, so cslr refuses it
 * first, and warns when the Ray nodes together claim more CPUs than the host has.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../src/config/config-error.ts";
import { embeddedExamples, modelFromTexts } from "../../src/config/load.ts";
import { runCli } from "../helpers/cli.ts";

const nodes = { file: "nodes.yaml", text: "head_whitelist: [ray-cpu, ray-gpu]\n" };
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function load(config: string, hostCpus: number, gpu = false) {
  return modelFromTexts({ file: "config.yaml", text: config }, nodes, () => gpu, "ws1", hostCpus);
}

async function problems(config: string, hostCpus: number, gpu = false): Promise<string[]> {
  try {
    await load(config, hostCpus, gpu);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split("\n");
    throw error;
  }
  return [];
}

describe("cpus above the host's CPU count", () => {
  test("refused with one positioned line that says what fits", async () => {
    const config = "services:\n  ray:\n    cpu:\n      cpus: 4\n";
    expect(await problems(config, 2)).toEqual([
      "config.yaml:4:13  services.ray.cpu.cpus  4 CPUs is more than this host has (2), and Docker refuses it; expected at most 2, or leave cpus out for no limit",
    ]);
  });

  test("as a string, and on the GPU node when it runs", async () => {
    const config = 'services:\n  ray:\n    cpu:\n      cpus: "2.5"\n    gpu:\n      enabled: true\n      cpus: 3\n';
    expect(await problems(config, 2, true)).toEqual([
      "config.yaml:4:13  services.ray.cpu.cpus  2.5 CPUs is more than this host has (2), and Docker refuses it; expected at most 2, or leave cpus out for no limit",
      "config.yaml:7:13  services.ray.gpu.cpus  3 CPUs is more than this host has (2), and Docker refuses it; expected at most 2, or leave cpus out for no limit",
    ]);
  });

  test("a node that does not run here is not checked (ray-gpu off, ray-cpu off without workers)", async () => {
    const cpuLines = async (config: string) => (await problems(config, 2, true)).filter((line) => line.includes(".cpus  "));
    expect(await cpuLines("services:\n  ray:\n    gpu:\n      enabled: false\n      cpus: 64\n")).toEqual([]);
    expect(await cpuLines("services:\n  ray:\n    cpu:\n      enabled: false\n      cpus: 64\n")).toEqual([]);
  });

  test("worker replicas share ray-cpu's limit: it is checked when only workers run", async () => {
    const config = "services:\n  ray:\n    cpu:\n      enabled: false\n      cpus: 8\n    workers: 1\n";
    expect((await problems(config, 4))[0]).toStartWith("config.yaml:5:13  services.ray.cpu.cpus  8 CPUs is more than this host has (4)");
  });

  test("exactly the host's count fits", async () => {
    expect(await problems("services:\n  ray:\n    cpu:\n      cpus: 2\n", 2)).toEqual([]);
  });

  test("from the CLI: exit 2, the line names the field and this host's count", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cslr-cpus-"));
    dirs.push(dir);
    await Bun.write(join(dir, "config.yaml"), "services:\n  ray:\n    cpu:\n      cpus: 100000\n");
    await Bun.write(join(dir, "nodes.yaml"), "head_whitelist: [ray-cpu]\n");
    const result = await runCli(["generate"], { cwd: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toMatch(
      /^config\.yaml:4:13  services\.ray\.cpu\.cpus  100000 CPUs is more than this host has \((\d+)\), and Docker refuses it; expected at most \1, or leave cpus out for no limit$/,
    );
  });
});

describe("CPUs over-subscribed by the Ray nodes together", () => {
  test("a warning, not an error, naming the sum and the fix", async () => {
    const model = await load("services:\n  ray:\n    cpu:\n      cpus: 2\n    workers: 2\n", 4);
    expect(model.warnings).toEqual([
      "the Ray nodes here claim 6 CPUs (ray-cpu 2, ray-worker-1 2, ray-worker-2 2) on a host with 4: Ray would run more tasks at once than the host has CPUs; lower services.ray.cpu.cpus or services.ray.workers so they add up to 4 or less",
    ]);
  });

  test("a node without a limit claims every CPU of the host (Ray counts them)", async () => {
    const model = await load("services:\n  ray:\n    workers: 1\n", 2);
    expect(model.warnings).toEqual([
      "the Ray nodes here claim 4 CPUs (ray-cpu 2 (no limit), ray-worker-1 2 (no limit)) on a host with 2: Ray would run more tasks at once than the host has CPUs; lower services.ray.cpu.cpus or services.ray.workers so they add up to 2 or less",
    ]);
  });

  test("nodes that fit together: no warning", async () => {
    expect((await load("services:\n  ray:\n    cpu:\n      cpus: 1\n    workers: 1\n", 2)).warnings).toEqual([]);
    expect((await load("services:\n  ray:\n    workers: 0\n", 2)).warnings).toEqual([]);
  });
});

describe("cslr init writes limits that fit the host", () => {
  test("the written config.yaml loads on a 1-CPU host (no cpus above it)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cslr-init-cpus-"));
    dirs.push(dir);
    expect((await runCli(["init"], { cwd: dir })).exitCode).toBe(0);
    const config = readFileSync(join(dir, "config.yaml"), "utf8");
    const model = await modelFromTexts(
      { file: "config.yaml", text: config },
      { file: "nodes.yaml", text: readFileSync(join(dir, "nodes.yaml"), "utf8") },
      () => false,
      "ws1",
      1,
    );
    expect(model.warnings).toEqual([]);
    expect(model.rayNodes.every((n) => n.cpus === undefined || n.cpus <= 1)).toBe(true);
  });

  test("the embedded example (what generate uses without config.yaml) is the same file", () => {
    expect(readFileSync(join(import.meta.dir, "../../config.example.yaml"), "utf8")).toBe(embeddedExamples.config);
  });
});
