/**
 * A configuration problem as users read it, `FILE:LINE:COL  path.to.field  what; expected`, and
 * the error that carries every one of them (exit 2). Kept apart from the YAML positioning
 * (diagnostics.ts), so code that only reports does not load the `yaml` package.
 */
import { UsageError } from "../errors.ts";

export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  /** Dotted path of the field (`services.ray.cpu.head_port`), or `(document)` for the whole file. */
  path: string;
  message: string;
  /** A count of problems not shown: printed after the others, whatever its position. */
  summary?: boolean;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}  ${d.path}  ${d.message}`;
}

/** Thrown with every problem, one line each; exit code 2. */
export class ConfigError extends UsageError {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
    this.name = "ConfigError";
    this.diagnostics = diagnostics;
  }
}

export type PathSegment = string | number;

export function dottedPath(path: readonly PathSegment[]): string {
  if (path.length === 0) return "(document)";
  return path.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
}
