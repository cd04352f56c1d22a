/**
 * `cslr doctor`'s pure parts: which secrets a compose file needs, which a `.env` file
 * provides, and whether Docker knows the NVIDIA runtime.
 */
import { parseDotenv } from "../config/dotenv.ts";

/**
 * Variables a compose file takes from the environment without a default: `${NAME}`,
 * `${NAME:?message}`, `${NAME?message}`. `${NAME:-default}` and `$$` (a literal `$`) are not needed.
 */
export function requiredEnvVars(composeText: string): string[] {
  const names = new Set<string>();
  const text = composeText.replaceAll("$$", "");
  for (const match of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-+?][^}]*)?\}/g)) {
    const modifier = match[2] ?? "";
    if (modifier === "" || modifier.startsWith(":?") || modifier.startsWith("?")) names.add(match[1]!);
  }
  for (const match of text.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(match[1]!);
  return [...names].sort();
}

/** Names given a non-empty value in a `.env` file (`NAME=value`, optional `export `, `#` comments). */
export function dotEnvNames(text: string): Set<string> {
  return new Set([...parseDotenv(text)].filter(([, value]) => value !== "").map(([name]) => name));
}

/** Does `docker info --format '{{json .Runtimes}}'` list the NVIDIA runtime? */
export function hasNvidiaRuntime(runtimesJson: string): boolean {
  try {
    const runtimes = JSON.parse(runtimesJson) as Record<string, unknown>;
    return Object.keys(runtimes).includes("nvidia");
  } catch {
    return /nvidia/.test(runtimesJson);
  }
}
