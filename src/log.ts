import { createConsola, type ConsolaInstance } from "consola";

/**
 * Human-facing messages go to stderr; stdout is kept for machine output (--json, --stdout).
 * Level: --quiet → warnings and errors, default → info, --verbose → debug.
 */
export const log: ConsolaInstance = createConsola({
  stdout: process.stderr,
  stderr: process.stderr,
  level: 3,
});

export function setLogLevel(opts: { verbose?: boolean; quiet?: boolean }): void {
  if (opts.quiet) log.level = 1;
  else if (opts.verbose) log.level = 4;
  else log.level = 3;
}
