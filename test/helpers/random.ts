/**
 * Randomness in tests, always replayable: every random test draws from seeds it prints, and
 * `CSLR_SEED=N bun test ...` runs exactly seed N again.
 */

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` consecutive seeds from a random start (printed), or just CSLR_SEED when it is set.
 * A failure names its seed; the printed line says how to replay it.
 */
export function seeds(count: number, label = "randomized test"): number[] {
  const fixed = process.env.CSLR_SEED;
  if (fixed !== undefined && /^\d+$/.test(fixed)) {
    console.log(`[seed] ${label}: replaying seed ${fixed}`);
    return [Number(fixed)];
  }
  const start = Math.floor(Math.random() * 2 ** 31);
  console.log(`[seed] ${label}: seeds ${start}..${start + count - 1}; replay one with CSLR_SEED=<seed>`);
  return Array.from({ length: count }, (_, i) => start + i);
}
