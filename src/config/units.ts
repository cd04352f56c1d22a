/** Units: sizes as Docker takes them, and durations as cslr's flags take them. */

/** Size units Docker accepts for memory and shm_size (case-insensitive, optional trailing b). */
const unitFactor: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Parses `512m`, `8g`, `16G`, `1.5gb` or a plain byte count into bytes; undefined when invalid. */
export function parseMemorySize(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value > 0 ? value : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)b?\s*$/i.exec(value);
  if (!match) return undefined;
  const bytes = Number(match[1]) * unitFactor[match[2]!.toLowerCase()]!;
  return bytes > 0 ? Math.round(bytes) : undefined;
}

/** `10s`, `500ms`, `1.5s`, `2m` or a bare number of seconds → milliseconds; undefined when invalid or not positive. */
export function parseDurationMs(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  const factor = match[2] === "ms" ? 1 : match[2] === "m" ? 60_000 : match[2] === "h" ? 3_600_000 : 1000;
  const ms = Math.round(value * factor);
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}
