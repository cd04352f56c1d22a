/**
 * Turns what a head answered into one line a user can act on (pure). Everything here comes from
 * the network: it is shown, never evaluated, and cleaned of control characters first so a
 * hostile answer cannot move the cursor or recolour the terminal.
 */
import type { z } from "zod";
import { oneLine } from "../text.ts";

export { oneLine };

/** Does this body look like an HTML page (a proxy's or another service's error page)? */
export function looksLikeHtml(contentType: string | null, body: string): boolean {
  return (contentType ?? "").toLowerCase().includes("text/html") || /^\s*<(!doctype|html|head|body)\b/i.test(body);
}

/**
 * The useful part of an error body. Ray answers 400 and 500 with a Python traceback as plain
 * text (job_head.py `traceback.format_exc()`); its last line names the exception and why.
 */
export function errorReason(contentType: string | null, body: string): string {
  if (looksLikeHtml(contentType, body)) return "an HTML page, not Ray's Jobs API";
  const lines = body
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const last = lines.at(-1);
  return last === undefined ? "an empty body" : oneLine(last);
}

/** The first problem zod found, as `field: what was wrong`. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "unexpected shape";
  const path = issue.path.length > 0 ? issue.path.join(".") : "the body";
  return oneLine(`${path}: ${issue.message}`, 160);
}

/** `1h02m`, `3m05s`, `12s`, `0.4s`. */
export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(Math.max(ms, 0) / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}
