/**
 * Writing files so that readers never see half of one: each file goes to a hidden temp name
 * beside its final one, and only when every file is written are they renamed into place. The
 * one home for temp-then-rename writes (`_build/`, `cslr join`'s files, the applied generation);
 * the election store adds fsync on top for its durable state (election/store.ts).
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export interface FileToWrite {
  path: string;
  content: string | Uint8Array;
  mode: number;
}

/** Writes every file beside its final name, then renames them all: all or nothing for what is written. */
export function writeFilesAtomically(files: readonly FileToWrite[]): void {
  const temps = files.map((file) => {
    mkdirSync(dirname(file.path), { recursive: true });
    const temp = join(dirname(file.path), `.${basename(file.path)}.${process.pid}.tmp`);
    writeFileSync(temp, file.content, { mode: file.mode });
    // writeFileSync's mode is masked by the umask: 0600 secrets must be 0600 whatever it is.
    chmodSync(temp, file.mode);
    return { temp, final: file.path };
  });
  for (const { temp, final } of temps) renameSync(temp, final);
}
