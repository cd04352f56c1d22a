/**
 * Escaping for the compose templates. They run with autoEscape on, so every `<%= %>` goes
 * through composeScalar and no config value can change the structure of the output.
 */

/**
 * A YAML scalar for a Compose file. Strings become JSON strings (valid YAML double-quoted
 * scalars: quotes, colons, `#`, newlines are inert) with `$` doubled, because Compose would
 * otherwise interpolate `${...}` inside them. Numbers and booleans (already validated) stay bare.
 */
export function composeScalar(value: unknown): string {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "boolean") return String(value);
  if (value === null || value === undefined) return "null";
  return JSON.stringify(String(value).replaceAll("$", "$$$$"));
}

/** Undoes Compose's `$$` escape: what a container sees for a composeScalar string. */
export function composeUnescape(value: string): string {
  return value.replaceAll("$$", "$");
}
