/**
 * One check, as `cslr doctor` and `cslr test` report it: ✓ passed, ✗ failed (with the fix),
 * - not applicable here. One renderer for both, and the same shape in their `--json`.
 */
import { jsonDocument, type JsonDocument } from "./json.ts";

/** ok passed; fail must be fixed; warn works but is worth fixing (never fails the command); skip does not apply here. */
export type CheckStatus = "ok" | "fail" | "warn" | "skip";

export interface Check {
  /** Stable identifier for scripts (`--json`) and tests, like `engine` or `head-port`. */
  id: string;
  /** What was checked, as one line. */
  name: string;
  status: CheckStatus;
  /** What was seen, or why it failed. */
  detail?: string;
  /** What to do about a failure. */
  fix?: string;
}

const marks: Record<CheckStatus, string> = { ok: "✓", fail: "✗", warn: "!", skip: "-" };

/** One line per check (`✓ name: detail`), and a `fix:` line under each failure and warning. */
export function renderChecks(checks: Check[]): string {
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(c.detail ? `${marks[c.status]} ${c.name}: ${c.detail}` : `${marks[c.status]} ${c.name}`);
    if ((c.status === "fail" || c.status === "warn") && c.fix) lines.push(`    fix: ${c.fix}`);
  }
  return `${lines.join("\n")}\n`;
}

/** `--json` of doctor and test: ok only when nothing failed. */
export function checksDocument(checks: Check[]): JsonDocument<{ ok: boolean; checks: Check[] }> {
  return jsonDocument({ ok: failedChecks(checks).length === 0, checks });
}

export function failedChecks(checks: Check[]): Check[] {
  return checks.filter((c) => c.status === "fail");
}

/** Runs one check; a check that throws is reported as failed with its message, never as a crash. */
export async function runCheck(id: string, name: string, check: () => Promise<Check> | Check): Promise<Check> {
  try {
    return await check();
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0]! : String(error);
    return { id, name, status: "fail", detail: `the check itself failed: ${message}` };
  }
}
