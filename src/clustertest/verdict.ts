/** Pure: check results → what `cslr test` prints, and its exit code. */
import { failedChecks, renderChecks, type Check } from "../checks.ts";

export function formatVerdict(results: Check[]): string {
  const passed = results.length - failedChecks(results).length;
  const summary =
    passed === results.length ? `cluster test passed: ${passed}/${results.length} checks` : `cluster test failed: ${passed}/${results.length} checks passed`;
  return `${renderChecks(results)}${summary}`;
}

/** 0 only when there were checks and none failed. */
export function verdictExitCode(results: Check[]): number {
  return results.length > 0 && failedChecks(results).length === 0 ? 0 : 1;
}
