/**
 * Secrets a command does not use. Compose interpolates every `${VAR:?...}` of the file for any
 * command, so without `.env` even `down`, `ps` and `logs` failed ("required variable ... is
 * missing a value"). Commands that create no container get a placeholder for each missing
 * secret instead: it reaches no container, and no secret is invented for one that runs.
 */
import { parseDotenv } from "../config/dotenv.ts";

/** Non-empty (compose's `:?` refuses an empty value) and recognisable if it ever shows up. */
export const placeholderValue = "cslr-placeholder-not-a-secret";

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

/** A placeholder for each variable the compose file needs that neither `.env` nor the environment sets. */
export function placeholdersFor(
  composeTexts: string[],
  dotenvText: string | undefined,
  env: Record<string, string | undefined> = process.env,
): Record<string, string> {
  const dotenv = parseDotenv(dotenvText ?? "");
  const needed = new Set(composeTexts.flatMap(requiredEnvVars));
  return Object.fromEntries([...needed].filter((name) => !dotenv.get(name) && !env[name]).map((name) => [name, placeholderValue]));
}
