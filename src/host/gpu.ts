/** Does this host have an NVIDIA GPU? `nvidia-smi -L` lists one line per GPU. */

export function parseNvidiaSmiList(output: string): number {
  return output.split("\n").filter((line) => /^GPU \d+:/.test(line.trim())).length;
}

/** Cheap when nvidia-smi is absent (a PATH lookup, no process). */
export function detectGpu(): boolean {
  const nvidiaSmi = Bun.which("nvidia-smi");
  if (!nvidiaSmi) return false;
  try {
    const result = Bun.spawnSync([nvidiaSmi, "-L"], { stdout: "pipe", stderr: "ignore", timeout: 5000 });
    return result.exitCode === 0 && parseNvidiaSmiList(result.stdout.toString()) > 0;
  } catch {
    return false;
  }
}
