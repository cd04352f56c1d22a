import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detectGpu, detectGpuSync, listsGpu } from "../../src/host/gpu.ts";

test.each([
  ["GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-1234)\n", true],
  ["GPU 0: Tesla T4 (UUID: GPU-a)\nGPU 1: Tesla T4 (UUID: GPU-b)\n", true],
  ["No devices were found\n", false],
  ["", false],
])("listsGpu(%j) = %p", (output, expected) => expect(listsGpu(output)).toBe(expected));

const dir = mkdtempSync(join(tmpdir(), "cslr-gpu-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in nvidia-smi (a shell script, not NVIDIA's tool) printing `output` with `code`. */
function fakeNvidiaSmi(name: string, output: string, code: number): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/bash\n# stand-in nvidia-smi for tests\nprintf '%s' '${output}'\nexit ${code}\n`);
  chmodSync(path, 0o755);
  return path;
}

test("no nvidia-smi on PATH: no GPU, without starting a process", async () => {
  expect(await detectGpu(() => null)).toBe(false);
  expect(detectGpuSync(() => null)).toBe(false);
});

test.each([
  ["lists a GPU", "GPU 0: Tesla T4 (UUID: GPU-a)\n", 0, true],
  ["driver without devices", "No devices were found\n", 6, false],
])("nvidia-smi that %s", async (name, output, code, expected) => {
  const path = fakeNvidiaSmi(name.replaceAll(" ", "-"), output, code);
  expect(await detectGpu(() => path)).toBe(expected);
  expect(detectGpuSync(() => path)).toBe(expected);
});
