/**
 * Packs a working directory into the zip Ray unpacks as a job's `working_dir`, named by its
 * content: `gcs://_ray_pkg_<sha256 of the zip>.zip`.
 *
 * Why not Ray's own name: Ray 2.60 (packaging.py, `_hash_directory`) XORs SHA-1 digests of each
 * path and its content, truncated to 64 bits, and leaves file modes out. Its scheme can be
 * reproduced, but the name would still differ from `ray job submit`'s whenever cslr's selection
 * differs (node_modules, git-style negation), so nothing would be shared; and a `chmod +x` would
 * keep the old name, so the cluster would keep running the old, non-executable file. The
 * SHA-256 of the deterministic zip covers names, contents and modes.
 *
 * `packWorkingDir` is what `bun run bench` times.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { CslrError, UsageError } from "../errors.ts";
import { listWorkingDir, type PackedFile } from "./walk.ts";
import { ZipWriter } from "./zip.ts";

const MiB = 1024 ** 2;

/**
 * What cslr accepts before reading any content: 500 MiB of files. Ray's own cap on a package is
 * the gRPC message size, 512 MiB (packaging.py `GCS_STORAGE_MAX_SIZE`).
 */
export const maxTotalBytes = 500 * MiB;

/**
 * The largest request body Ray's dashboard reads, 100 MiB (ray_constants.DASHBOARD_CLIENT_MAX_SIZE,
 * the aiohttp `client_max_size` of the dashboard and its subprocess modules): a bigger zip is
 * answered 413 without reaching Ray, so cslr refuses it before uploading.
 */
export const maxUploadBytes = 100 * MiB;

/** Ray's prefix for uploaded packages (packaging.py `RAY_PKG_PREFIX`). */
export const packagePrefix = "_ray_pkg_";

export interface WorkingDirPackage {
  /** The working directory, absolute. */
  root: string;
  /** The zip itself. */
  bytes: Uint8Array;
  sha256: string;
  /** `_ray_pkg_<sha256>.zip`: the `{package_name}` of `/api/packages/gcs/{package_name}`. */
  name: string;
  /** `gcs://_ray_pkg_<sha256>.zip`: the job's `runtime_env.working_dir`. */
  uri: string;
  fileCount: number;
  /** Sum of the packed files' sizes, before compression. */
  totalBytes: number;
  notes: string[];
}

export interface PackOptions {
  maxTotalBytes?: number;
  maxUploadBytes?: number;
  /** zlib level, 6 by default. */
  level?: number;
}

export function formatMiB(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

/** The few largest files, to name in a size error: `a.bin 400.0 MiB, b.pt 150.0 MiB`. */
export function largestFiles(files: readonly Pick<PackedFile, "path" | "size">[], count = 5): string {
  return [...files]
    .sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1))
    .slice(0, count)
    .map((f) => `${f.path} ${formatMiB(f.size)}`)
    .join(", ");
}

/** One line naming the size, the limit, the largest files and the fix. */
export function tooLargeMessage(what: string, bytes: number, limit: number, limitName: string, files: readonly Pick<PackedFile, "path" | "size">[]): string {
  return (
    `${what} is ${formatMiB(bytes)}, over ${limitName} of ${formatMiB(limit)}; largest files: ${largestFiles(files)}; ` +
    "list what the job does not need in .rayignore (or .gitignore), or pick a smaller folder with --working-dir"
  );
}

/** How much of a large file is deflated to foresee its share of the zip. */
const sampleBytes = 4 * MiB;

function readPrefix(path: string, length: number): Uint8Array<ArrayBuffer> {
  const fd = openSync(path, "r");
  try {
    const buffer = new Uint8Array(length);
    return buffer.subarray(0, readSync(fd, buffer, 0, length, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * A low estimate of the zip's size from stat data and the first 4 MiB of each larger file, so
 * a 300 MiB file of noise is refused after reading 4 MiB, not all of it. Smaller files count
 * as nothing here: the zip itself is checked after packing.
 */
function foreseenZipBytes(files: readonly PackedFile[], level: number): number {
  let total = 0;
  for (const file of files) {
    if (file.size <= sampleBytes) continue;
    const sample = readPrefix(file.absolutePath, sampleBytes);
    const ratio = sample.length === 0 ? 1 : Math.min(1, Bun.deflateSync(sample, { level: level as 1 }).length / sample.length);
    total += file.size * ratio;
  }
  return total;
}

function readPacked(file: PackedFile): Uint8Array<ArrayBuffer> {
  try {
    return readFileSync(file.absolutePath);
  } catch (error) {
    throw new CslrError(
      `${file.absolutePath}: cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"}); fix its permissions or list it in .rayignore`,
    );
  }
}

export function packWorkingDir(directory: string, options: PackOptions = {}): WorkingDirPackage {
  const root = resolve(directory);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new UsageError(`--working-dir ${directory}: no such folder; give the folder the job's files are in`);
  }
  const listing = listWorkingDir(root);
  const totalBytes = listing.files.reduce((sum, f) => sum + f.size, 0);
  const totalLimit = options.maxTotalBytes ?? maxTotalBytes;
  if (totalBytes > totalLimit) {
    throw new CslrError(tooLargeMessage(`working directory ${root}`, totalBytes, totalLimit, "Ray's limit", listing.files));
  }

  const uploadLimit = options.maxUploadBytes ?? maxUploadBytes;
  const overUpload = (bytes: number, what: string) =>
    new CslrError(tooLargeMessage(what, bytes, uploadLimit, "the largest upload Ray's dashboard accepts", listing.files));
  if (totalBytes > uploadLimit) {
    const foreseen = foreseenZipBytes(listing.files, options.level ?? 6);
    if (foreseen > uploadLimit) throw overUpload(Math.round(foreseen), `the zip of ${root} (foreseen from its files' first 4 MiB)`);
  }

  const zip = new ZipWriter({ level: options.level });
  for (const dir of listing.emptyDirectories) zip.addDirectory(dir);
  for (const file of listing.files) {
    zip.addFile(file.path, readPacked(file), file.executable, file.private);
    // Stop reading as soon as the zip cannot fit.
    if (zip.size > uploadLimit) throw overUpload(zip.size, `the zip of ${root}`);
  }
  const bytes = zip.finish();
  if (bytes.length > uploadLimit) throw overUpload(bytes.length, `the zip of ${root}`);
  const sha256 = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
  const name = `${packagePrefix}${sha256}.zip`;
  return { root, bytes, sha256, name, uri: `gcs://${name}`, fileCount: listing.files.length, totalBytes, notes: listing.notes };
}
