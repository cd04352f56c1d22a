/** Pure: a document's generated part, fenced by HTML comments so the hand-written text around it stays as written. */

/**
 * The document with the generated part between `<!-- NAME:start -->` and `<!-- NAME:end -->`
 * replaced by `content`; `file` names the document in the error when a marker is missing.
 */
export function withGenerated(document: string, name: string, content: string, file: string): string {
  const startMarker = `<!-- ${name}:start -->`;
  const start = document.indexOf(startMarker);
  const end = document.indexOf(`<!-- ${name}:end -->`);
  if (start < 0 || end < start) throw new Error(`${file} has no ${name} markers`);
  return `${document.slice(0, start + startMarker.length)}\n${content}\n${document.slice(end)}`;
}
