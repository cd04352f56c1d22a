/** `10s`, `500ms`, `1.5s`, `2m` or a bare number of seconds → milliseconds; undefined when invalid. */
export function parseDurationMs(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  const factor = match[2] === "ms" ? 1 : match[2] === "m" ? 60_000 : 1000;
  const ms = Math.round(value * factor);
  return ms > 0 ? ms : undefined;
}
