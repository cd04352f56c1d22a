/**
 * Lists what a job's package holds: the files of a working directory that no ignore rule leaves
 * out (src/jobs/ignore.ts), with their sizes and whether they are executable. Reads only
 * directory entries, ignore files and stat data; file contents are read later, once the size
 * limit has passed.
 */
import { readdirSync, readFileSync, realpathSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";
import { childRules, ignoreFileNames, isIgnored, noRules, type IgnoreRules } from "./ignore.ts";

export interface PackedFile {
  /** Relative to the working directory, `/`-separated: the name inside the zip. */
  path: string;
  absolutePath: string;
  size: number;
  executable: boolean;
}

export interface WorkingDirListing {
  /** Sorted by path. */
  files: PackedFile[];
  /**
   * Directories that contribute no file (empty, or everything in them ignored), sorted: they get
   * an entry of their own so the job sees the same tree shape (an `outputs/` folder, say).
   */
  emptyDirectories: string[];
  /** Things passed over that the user may want to know about (dangling links, link loops, sockets). */
  notes: string[];
}

function readIgnoreFiles(directory: string, names: ReadonlySet<string>): string[] {
  const texts: string[] = [];
  for (const name of ignoreFileNames) {
    if (!names.has(name)) continue;
    try {
      texts.push(readFileSync(join(directory, name), "utf8"));
    } catch {
      // An unreadable ignore file cannot exclude anything; the file itself is then skipped too.
    }
  }
  return texts;
}

/**
 * Walks `root`, following symbolic links as Ray does (its docs: "Ray follows the links and the
 * files they point to are uploaded"), but never around a loop.
 */
export function listWorkingDir(root: string): WorkingDirListing {
  const files: PackedFile[] = [];
  const emptyDirectories: string[] = [];
  const notes: string[] = [];

  const visit = (relative: string, absolute: string, inherited: IgnoreRules, ancestors: ReadonlySet<string>): number => {
    const entries = readdirSync(absolute, { withFileTypes: true });
    const names = new Set(entries.map((e) => e.name));
    const rules = childRules(inherited, relative, readIgnoreFiles(absolute, names));
    let packed = 0;
    for (const entry of entries) {
      const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
      const entryPath = join(absolute, entry.name);
      let stats: Stats;
      try {
        stats = statSync(entryPath);
      } catch {
        notes.push(`${path}: skipped, a symbolic link to nothing`);
        continue;
      }
      if (stats.isDirectory()) {
        if (isIgnored(rules, path, true)) continue;
        const real = realpathSync(entryPath);
        if (ancestors.has(real)) {
          notes.push(`${path}: skipped, a symbolic link back to a folder above it`);
          continue;
        }
        const inside = visit(path, entryPath, rules, new Set([...ancestors, real]));
        if (inside === 0) emptyDirectories.push(path);
        packed += inside + 1;
      } else if (stats.isFile()) {
        if (isIgnored(rules, path, false)) continue;
        files.push({ path, absolutePath: entryPath, size: stats.size, executable: (stats.mode & 0o111) !== 0 });
        packed += 1;
      } else if (!isIgnored(rules, path, false)) {
        // Reading a FIFO would block and a socket or device has no content to ship.
        notes.push(`${path}: skipped, not a regular file`);
      }
    }
    return packed;
  };

  visit("", root, noRules, new Set([realpathSync(root)]));
  const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  files.sort((a, b) => byPath(a.path, b.path));
  emptyDirectories.sort(byPath);
  return { files, emptyDirectories, notes };
}
