/**
 * The election state on disk. A write is all or nothing: the whole state goes to a temporary
 * file beside the target, every byte is checked written, the file and then its folder are
 * fsynced, and only then is it renamed over the old one. A failed write leaves the previous
 * state in place and says why. On start, a state file that cannot be read back is moved aside
 * (never deleted) and the service is told to start above a term floor.
 */
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { CslrError } from "../errors.ts";
import { basename, dirname, join } from "node:path";
import { z } from "zod";
import { emptySnapshot, type ElectionSnapshot } from "./state.ts";

const name = z.string().min(1).max(253);
const host = name.optional();

const snapshotV2 = z.strictObject({
  version: z.literal(2),
  term: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  head: z.strictObject({ node: name, host, address: z.string().min(1), term: z.int().min(1), ready: z.boolean(), grantedAt: z.number() }).nullable(),
  members: z.array(z.strictObject({ node: name, host, address: z.string(), term: z.int().min(0), joinedAt: z.number() })),
  history: z
    .array(z.strictObject({ term: z.int().min(1), node: name, host, start: z.number(), end: z.number().nullable() }))
    .max(1000)
    .optional(),
});

/** What cslr 0.1 wrote; read once and upgraded, so an upgrade keeps the head and its term. */
const snapshotV1 = z.object({
  version: z.literal(1),
  term: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  head: z.object({ node: name, address: z.string().min(1), term: z.int().min(1), ready: z.boolean(), grantedAt: z.number() }).nullable(),
  workers: z.array(z.object({ node: name, address: z.string(), term: z.int().min(0), joinedAt: z.number() })),
});

export type LoadedState =
  | { kind: "fresh"; snapshot: ElectionSnapshot }
  | { kind: "restored"; snapshot: ElectionSnapshot }
  /** Unreadable: moved aside to `movedTo`; terms must continue above `termFloor`. */
  | { kind: "lost"; snapshot: ElectionSnapshot; movedTo: string; reason: string; termFloor: number };

function parseSnapshot(text: string): ElectionSnapshot | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return `not valid JSON (${(error as Error).message})`;
  }
  const v2 = snapshotV2.safeParse(json);
  if (v2.success) return v2.data;
  const v1 = snapshotV1.safeParse(json);
  if (v1.success) {
    const { term, head, workers } = v1.data;
    return {
      version: 2,
      term,
      head: head && { node: head.node, address: head.address, term: head.term, ready: head.ready, grantedAt: head.grantedAt },
      members: workers.map((w) => ({ ...w })),
    };
  }
  const issue = v2.error.issues[0]!;
  return `${issue.path.join(".") || "state"}: ${issue.message}`;
}

/**
 * Reads the state file. Missing: a fresh start (the service starts terms above the wall clock in
 * milliseconds, as for a lost file: the file may be missing because its volume was). Unreadable:
 * moved aside, and the term floor is the wall clock in milliseconds, above every term a service
 * could have counted up to (terms grow by one per grant; see docs/election.md for the case this cannot
 * cover).
 */
export function loadStateFile(path: string, wallNow: () => number): LoadedState {
  removeStaleTemporaries(path);
  if (!existsSync(path)) return { kind: "fresh", snapshot: emptySnapshot() };
  let text: string;
  let reason: string;
  try {
    text = readFileSync(path, "utf8");
    const parsed = parseSnapshot(text);
    if (typeof parsed !== "string") return { kind: "restored", snapshot: parsed };
    reason = parsed;
  } catch (error) {
    reason = `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  const movedTo = `${path}.corrupt-${new Date(wallNow()).toISOString().replaceAll(":", "")}`;
  try {
    renameSync(path, movedTo);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new CslrError(
      `${path}: the election state is unreadable (${reason}) and cannot be moved aside (${code}); make its folder writable (a read-only volume?) or move the file away, then start again`,
    );
  }
  return { kind: "lost", snapshot: emptySnapshot(), movedTo, reason, termFloor: wallNow() };
}

/** The temporary files of writes a killed service never finished (`.NAME.PID.tmp`): nothing reads them. */
function removeStaleTemporaries(path: string): void {
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^\d+\.tmp$/.test(name.slice(prefix.length))) continue;
    try {
      unlinkSync(join(dirname(path), name));
    } catch {
      // A read-only folder: the write path reports that.
    }
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) {
    const written = writeSync(fd, bytes, offset, bytes.length - offset);
    if (written <= 0) throw new Error(`short write: ${offset} of ${bytes.length} bytes`);
    offset += written;
  }
}

function fsyncFolder(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes the state durably: temporary file, every byte checked, fsync, rename, fsync of the
 * folder (without it a power cut can lose the rename). Throws with the reason on any failure;
 * the previous file is untouched then.
 */
export function writeStateFile(path: string, snapshot: ElectionSnapshot): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const bytes = new TextEncoder().encode(`${JSON.stringify(snapshot)}\n`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "w", 0o600);
    writeAll(fd, bytes);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
    fsyncFolder(dirname(path));
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {}
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code ? `${code}: ${(error as Error).message}` : (error as Error).message);
  }
}
