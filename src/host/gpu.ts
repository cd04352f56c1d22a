/**
 * Does this machine have an NVIDIA GPU? `nvidia-smi -L` lists one line per GPU. Cheap when
 * nvidia-smi is absent (a PATH lookup, no process), bounded when it hangs (a wedged driver).
 */

/** "GPU 0: NVIDIA A100 (UUID: ...)" lines → true. */
export function listsGpu(nvidiaSmiOutput: string): boolean {
  return /^GPU \d+:/m.test(nvidiaSmiOutput);
}

const timeoutMs = 5000;

export async function detectGpu(which: (program: string) => string | null = Bun.which): Promise<boolean> {
  const path = which("nvidia-smi");
  if (!path) return false;
  const proc = Bun.spawn([path, "-L"], { stdin: "ignore", stdout: "pipe", stderr: "ignore", timeout: timeoutMs });
  const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return code === 0 && listsGpu(stdout);
}

/** Synchronous variant for code paths that cannot await (config normalisation). */
export function detectGpuSync(which: (program: string) => string | null = Bun.which): boolean {
  const path = which("nvidia-smi");
  if (!path) return false;
  const result = Bun.spawnSync([path, "-L"], { stdin: "ignore", stdout: "pipe", stderr: "ignore", timeout: timeoutMs });
  return result.exitCode === 0 && listsGpu(result.stdout.toString());
}
