/**
 * `cslr doctor`'s pure parts: the result of one check, its rendering, and reading which
 * secrets a compose file needs and which a `.env` file provides.
 */
import { parseDotenv } from "../render/secrets.ts";

export interface CheckResult {
  name: string;
  /** "skip": not applicable here (no GPU, health service runs locally); not a failure. */
  status: "ok" | "fail" | "skip";
  detail: string;
  /** What to do about a failure. */
  fix?: string;
}

export function renderChecks(results: CheckResult[]): string {
  const mark = { ok: "✓", fail: "✗", skip: "-" } as const;
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${mark[r.status]} ${r.name}: ${r.detail}`);
    if (r.status === "fail" && r.fix) lines.push(`    fix: ${r.fix}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The closing line: undefined when every check passed. */
export function failureSummary(results: CheckResult[]): string | undefined {
  const failed = results.filter((r) => r.status === "fail").length;
  return failed === 0 ? undefined : `doctor: ${failed} check${failed === 1 ? "" : "s"} failed`;
}

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
