/**
 * The `.env` file beside config.yaml: the only place secrets live (mode 0600). Reading it,
 * and adding missing secrets to it without touching the existing ones.
 */
import { readFileSync } from "node:fs";
import { secretNames, type SecretName } from "./secrets.ts";

/** Parses a dotenv file: `KEY=value`, optional quotes, `#` comments. */
export function parseDotenv(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2]!;
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    values.set(match[1]!, value);
  }
  return values;
}

/** A random secret of letters and digits: safe inside URLs, shell words and config files. */
export function randomSecret(length = 32): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
  let out = "";
  // Rejection sampling keeps every character equally likely.
  for (const byte of bytes) {
    if (byte < 248) out += alphabet[byte % 62];
    if (out.length === length) break;
  }
  return out.length === length ? out : out + randomSecret(length - out.length);
}

/** Appends the missing secrets to a dotenv text, never touching existing values. */
export function withMissingSecrets(existing: string, fresh: () => string = randomSecret): { text: string; added: SecretName[] } {
  const present = parseDotenv(existing);
  const added = secretNames.filter((name) => !present.get(name));
  if (added.length === 0) return { text: existing, added };
  const prefix = existing === "" ? "# Secrets for cslr. Keep this file private (mode 0600); never commit it.\n" : existing.endsWith("\n") ? "" : "\n";
  const lines = added.map((name) => `${name}=${fresh()}`).join("\n");
  return { text: `${existing}${prefix}${lines}\n`, added };
}

/**
 * Sets secrets to new values: a line that assigns one is replaced in place, a secret not yet
 * in the file is appended; every other line is kept byte for byte.
 */
export function withSecrets(existing: string, values: Partial<Record<SecretName, string>>): string {
  const pending = new Map(Object.entries(values) as [SecretName, string][]);
  const lines = existing === "" ? [] : existing.replace(/\n$/, "").split("\n");
  const out = lines.map((line) => {
    const name = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1] as SecretName | undefined;
    if (name === undefined || !values[name]) return line;
    const value = values[name]!;
    // Every assignment of the name gets the new value: a later duplicate would win in compose.
    pending.delete(name);
    return `${name}=${value}`;
  });
  const header = existing === "" ? ["# Secrets for cslr. Keep this file private (mode 0600); never commit it."] : [];
  return `${[...header, ...out, ...[...pending].map(([name, value]) => `${name}=${value}`)].join("\n")}\n`;
}

/** A secret from the project's `.env` (else the environment), for cslr's own calls to the cluster. */
export function readSecret(envFile: string, name: SecretName): string | undefined {
  let fromFile: string | undefined;
  try {
    fromFile = parseDotenv(readFileSync(envFile, "utf8")).get(name);
  } catch {
    fromFile = undefined;
  }
  return fromFile || process.env[name] || undefined;
}
