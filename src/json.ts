/**
 * The one shape of every `--json` document cslr prints: an object whose first key is
 * `schemaVersion` (1 until a field changes meaning or goes away; new fields do not bump it).
 * Lists are never printed bare: they sit under a plural noun that says what they hold
 * (`containers`, `jobs`, `checks`, `ports`), so a document can grow fields without breaking
 * a script. The same thing has the same name everywhere: `service`, `container`, `host`, `node`.
 */
export const schemaVersion = 1;

export type JsonDocument<T extends object> = { schemaVersion: typeof schemaVersion } & T;

export function jsonDocument<T extends object>(body: T): JsonDocument<T> {
  return { schemaVersion, ...body };
}

export function formatJson(document: JsonDocument<object>): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
