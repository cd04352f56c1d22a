/**
 * Lists what a job's package holds: the files of a working directory that no ignore rule leaves
 * out (src/jobs/ignore.ts), with their sizes and whether they are executable or private. Reads
 * only directory entries, ignore files and stat data (and the root's config.yaml/nodes.yaml, to
 * see whether they hold secrets); file contents are read later, once the size limit has passed.
 *
 * Never shipped, each with a named note: files that may hold secrets (ignore.ts, secretSkip),
 * symbolic links that lead out of the working folder, names that are not UTF-8, and what cannot
 * be read.
 */
import { accessSync, constants, readdirSync, readFileSync, realpathSync, statSync, type Dirent, type Stats } from "node:fs";
import { join, relative as relativePath, sep } from "node:path";
import { parseDotenv } from "../config/dotenv.ts";
import { UsageError } from "../errors.ts";
import { childRules, ignoreFileNames, isIgnored, noRules, secretSkip, type IgnoreRules } from "./ignore.ts";

export interface PackedFile {
  /** Relative to the working directory, `/`-separated: the name inside the zip. */
  path: string;
  absolutePath: string;
  size: number;
  executable: boolean;
  /** Readable by its owner only (0600, 0700): it stays so in the zip. */
  private: boolean;
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

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
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

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** A name as the user can read it in a note: JSON-quoted, with each byte that is not UTF-8 as \xNN. */
function printableName(bytes: Buffer): string {
  return JSON.stringify(bytes.toString("latin1")).replace(/[\u0080-\u00ff]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`);
}

/** The entries of a folder with their names decoded; names that are not UTF-8 are noted and left out. */
interface Entry {
  name: string;
  symbolicLink: boolean;
}

function readEntries(absolute: string, relative: string, notes: string[]): Entry[] | undefined {
  let entries: Dirent[];
  try {
    entries = readdirSync(absolute, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    if (relative === "") throw new UsageError(`--working-dir ${absolute}: cannot be read (${code}); give a folder you can read`);
    notes.push(`${relative}/: skipped, cannot be read (${code})`);
    return undefined;
  }
  const all = entries.map((e) => ({ name: e.name, symbolicLink: e.isSymbolicLink() }));
  // A name that is not UTF-8 comes back with U+FFFD in it: read the raw names to tell.
  if (!all.some((e) => e.name.includes("\ufffd"))) return all;
  const valid = new Set<string>();
  for (const raw of readdirSync(absolute, { encoding: "buffer" })) {
    try {
      valid.add(strictUtf8.decode(raw));
    } catch {
      notes.push(`${relative === "" ? "" : `${relative}/`}${printableName(raw)}: skipped, its name is not UTF-8 (a zip names files in UTF-8)`);
    }
  }
  return all.filter((e) => valid.has(e.name));
}

/** True when `real` is the root or inside it. */
function inside(root: string, real: string): boolean {
  const rel = relativePath(root, real);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !rel.startsWith(sep));
}

/** Why the root's config.yaml / nodes.yaml must stay home: it holds a value of the sibling .env, or a URL with a password. */
function projectFileSecret(root: string, name: string, path: string, size: number): string | undefined {
  if (!/^(config|nodes)\.ya?ml$/.test(name) || size > 1024 * 1024) return undefined;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  if (/[a-z][a-z0-9+.-]*:\/\/[^\s/@:]*:[^\s/@]*@/i.test(text)) return "holds a URL with a password";
  let env: Map<string, string>;
  try {
    env = parseDotenv(readFileSync(join(root, ".env"), "utf8"));
  } catch {
    return undefined;
  }
  return [...env.values()].some((v) => v.length >= 8 && text.includes(v)) ? "holds a secret from .env" : undefined;
}

/**
 * Why an entry stays out before its kind is looked at (it may hold secrets; a link leads out of
 * the folder): the note, "" when an ignore rule leaves it out anyway, undefined to go on.
 */
function leftOut(entry: Entry, path: string, entryPath: string, stats: Stats, rules: IgnoreRules, realRoot: string): string | undefined {
  const isDirectory = stats.isDirectory();
  const skip = secretSkip(entry.name, isDirectory);
  let reason = skip ? `${path}${isDirectory ? "/" : ""}: skipped, ${skip}` : undefined;
  if (!reason && entry.symbolicLink) {
    const real = realpathSync(entryPath);
    if (!inside(realRoot, real)) reason = `${path}: skipped, a symbolic link to ${real}, outside the working folder (not followed)`;
  }
  if (reason === undefined) return undefined;
  return isIgnored(rules, path, isDirectory) ? "" : reason;
}

/** Why a regular file cannot be packed (unreadable; the root's config.yaml holding secrets), as a note. */
function unpackableFile(path: string, entryPath: string, root: string | undefined, name: string, size: number): string | undefined {
  if (!readable(entryPath)) return `${path}: skipped, cannot be read (EACCES)`;
  const projectSecret = root === undefined ? undefined : projectFileSecret(root, name, entryPath, size);
  return projectSecret ? `${path}: skipped, ${projectSecret} (a project file with secrets is never uploaded)` : undefined;
}

/** The entry's stats (through a link), or undefined with a note saying why it is skipped. */
function statOrNote(entryPath: string, path: string, symbolicLink: boolean, notes: string[]): Stats | undefined {
  try {
    return statSync(entryPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    notes.push(symbolicLink && code === "ENOENT" ? `${path}: skipped, a symbolic link to nothing` : `${path}: skipped, cannot be read (${code ?? "error"})`);
    return undefined;
  }
}

/**
 * Walks `root`, following symbolic links as Ray does (its docs: "Ray follows the links and the
 * files they point to are uploaded") as long as they stay inside it, never around a loop.
 */
export function listWorkingDir(root: string): WorkingDirListing {
  const files: PackedFile[] = [];
  const emptyDirectories: string[] = [];
  const notes: string[] = [];
  const realRoot = realpathSync(root);

  const visit = (relative: string, absolute: string, inherited: IgnoreRules, ancestors: ReadonlySet<string>): number => {
    const entries = readEntries(absolute, relative, notes);
    if (!entries) return 0;
    const names = new Set(entries.map((e) => e.name));
    const rules = childRules(inherited, relative, readIgnoreFiles(absolute, names));
    let packed = 0;
    for (const entry of entries) {
      const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
      const entryPath = join(absolute, entry.name);
      const stats = statOrNote(entryPath, path, entry.symbolicLink, notes);
      if (!stats) continue;
      const out = leftOut(entry, path, entryPath, stats, rules, realRoot);
      if (out) notes.push(out);
      if (out !== undefined) continue;
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
        const unpackable = unpackableFile(path, entryPath, relative === "" ? absolute : undefined, entry.name, stats.size);
        if (unpackable) {
          notes.push(unpackable);
          continue;
        }
        files.push({ path, absolutePath: entryPath, size: stats.size, executable: (stats.mode & 0o111) !== 0, private: (stats.mode & 0o044) === 0 });
        packed += 1;
      } else if (!isIgnored(rules, path, false)) {
        // Reading a FIFO would block and a socket or device has no content to ship.
        notes.push(`${path}: skipped, not a regular file`);
      }
    }
    return packed;
  };

  visit("", root, noRules, new Set([realRoot]));
  const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  files.sort((a, b) => byPath(a.path, b.path));
  emptyDirectories.sort(byPath);
  return { files, emptyDirectories, notes };
}
