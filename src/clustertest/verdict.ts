/** Pure: check results → the lines `cslr test` prints, and its exit code. */
import type { CheckResult } from "./checks.ts";

export function formatCheck(result: CheckResult): string[] {
  const mark = result.ok ? "✓" : "✗";
  const head = result.detail ? `${mark} ${result.title}: ${result.detail}` : `${mark} ${result.title}`;
  return result.ok || !result.fix ? [head] : [head, `    fix: ${result.fix}`];
}

export function formatVerdict(results: CheckResult[]): string {
  const passed = results.filter((r) => r.ok).length;
  const summary =
    passed === results.length
      ? `cluster test passed: ${passed}/${results.length} checks`
      : `cluster test failed: ${passed}/${results.length} checks passed`;
  return [...results.flatMap(formatCheck), summary].join("\n");
}

/** 0 only when there were checks and every one passed. */
export function verdictExitCode(results: CheckResult[]): number {
  return results.length > 0 && results.every((r) => r.ok) ? 0 : 1;
}
