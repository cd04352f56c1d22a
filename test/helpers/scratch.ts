/**
 * Scratch folders owned by a test process. A folder is named by its process's pid, so whatever
 * a run leaves behind (a killed run, or a serial `bun test` where a file recreates the folder
 * after the file that made it has removed it) is removed by the next run that finds its process
 * gone. Without this, /tmp on a developer's machine filled with a copy per run.
 */
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Whether a process with this pid exists (EPERM: it does, under another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** `$TMPDIR/<prefix>-<pid>`, made if missing, after removing `<prefix>-<pid>` folders of processes that are gone. */
export function processScratch(prefix: string): string {
  const parent = tmpdir();
  for (const name of readdirSync(parent)) {
    const match = new RegExp(`^${prefix}-(\\d+)$`).exec(name);
    if (match && Number(match[1]) !== process.pid && !isAlive(Number(match[1]))) rmSync(join(parent, name), { recursive: true, force: true });
  }
  const dir = join(parent, `${prefix}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}
