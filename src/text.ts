/**
 * Text that came from elsewhere (a coordinator, a head, a job), made safe to print (pure). It
 * is shown, never evaluated: control characters, escape sequences, line and paragraph
 * separators and bidirectional overrides are flattened, so an answer cannot clear the screen,
 * move the cursor, recolour the terminal, reorder what is shown or add a line of fake advice.
 */

const unprintable = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g;

/** Printable text only, on one line, at most `max` characters. */
export function oneLine(value: string, max = 200): string {
  const flat = value.replace(unprintable, " ").replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
