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

/** --quiet: progress and info lines are off; warnings and errors still print. */
export function isQuiet(): boolean {
  return log.level < 3;
}

/** A plain line of progress or information on stderr (no consola badge), silent under --quiet. */
export function infoLine(line: string): void {
  if (!isQuiet()) process.stderr.write(`${line}\n`);
}
