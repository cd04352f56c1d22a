/** Exit codes of the cslr binary. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An expected failure the user can act on. Its stack is its message, so the user sees the
 * advice, not a trace (the trace appears only with --verbose).
 */
export class CslrError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = ExitCode.failure) {
    super(message);
    this.name = "CslrError";
    this.exitCode = exitCode;
  }
}

/** Bad usage or bad configuration: exit code 2. */
export class UsageError extends CslrError {
  constructor(message: string) {
    super(message, ExitCode.usage);
    this.name = "UsageError";
  }
}
