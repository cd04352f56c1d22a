/** Temporary file trees for the packing tests. */
import { afterAll } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { processScratch } from "../helpers/scratch.ts";

const scratch = processScratch("cslr-jobs");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A fresh, empty folder under the scratch folder. */
export function scratchDir(): string {
  const dir = join(scratch, `s${serial++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

let serial = 0;
/** Writes a tree from `path → content` (a path ending in `/` is an empty folder). */
export function makeTree(files: Record<string, string>): string {
  const root = join(scratch, `t${serial++}`);
  mkdirSync(root, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    if (path.endsWith("/")) mkdirSync(full, { recursive: true });
    else {
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
  }
  return root;
}
