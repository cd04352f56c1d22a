/**
 * The copies of cslr that containers run. The health container and every Ray container (the
 * node agent) execute a Linux cslr binary bind-mounted from the host. Mounting the downloaded
 * binary itself ties the running stack to that file: replacing it in place fails ("Text file
 * busy"), moving or deleting it makes the next container restart exit 127. So cslr copies it
 * once into a store it manages and mounts the copy:
 *
 *   $CSLR_HOME/bin/cslr-<version>-<sha256 prefix>     (CSLR_HOME: $XDG_DATA_HOME/cslr, else ~/.local/share/cslr)
 *
 * A copy is immutable and named by its content, so the compose file changes (and containers
 * are recreated) only when the binary's content does. Hashing ~100 MB costs ~0.1 s; a small
 * index keyed by the source file's identity (device, inode, size, mtime) skips it when the
 * source has not changed. Copies unused for a week and not mounted by any container of this
 * engine are pruned after a successful `cslr up`.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export function storeRoot(env: Record<string, string | undefined> = process.env): string {
  if (env.CSLR_HOME) return env.CSLR_HOME;
  return join(env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "cslr");
}

export function storeBinDir(env: Record<string, string | undefined> = process.env): string {
  return join(storeRoot(env), "bin");
}

/** `cslr-0.1.0-1a2b3c4d5e6f7a8b`: what a copy is called (pure). */
export function copyName(version: string, sha256Hex: string): string {
  return `cslr-${version.replace(/[^0-9A-Za-z.+-]/g, "_")}-${sha256Hex.slice(0, 16)}`;
}

/** `cslr-<version>-<hash>` → its version, or undefined for another file (pure). */
export function versionOfCopy(name: string): string | undefined {
  return /^cslr-(.+)-[0-9a-f]{16}$/.exec(name)?.[1];
}

interface IndexEntry {
  key: string;
  sha256: string;
}

function identityKey(path: string): string {
  const st = statSync(path);
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

async function sha256Of(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  const reader = Bun.file(path).stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hasher.update(value);
  }
  return hasher.digest("hex");
}

function readIndex(dir: string): Record<string, IndexEntry> {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, ".index.json"), "utf8")) as unknown;
    return parsed && typeof parsed === "object" ? (parsed as Record<string, IndexEntry>) : {};
  } catch {
    return {};
  }
}

function writeIndex(dir: string, index: Record<string, IndexEntry>): void {
  const temp = join(dir, `.index.json.${process.pid}.tmp`);
  writeFileSync(temp, JSON.stringify(index));
  renameSync(temp, join(dir, ".index.json"));
}

/**
 * The store's copy of `source` (copied in when missing), as an absolute path. The copy is
 * written to a temporary name and renamed, so a container never sees half a binary.
 */
export async function installCopy(source: string, version: string, options: { dir?: string; dryRun?: boolean } = {}): Promise<string> {
  const dir = options.dir ?? storeBinDir();
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const index = readIndex(dir);
  const key = identityKey(source);
  let sha = index[source]?.key === key ? index[source]!.sha256 : undefined;
  if (!sha) {
    sha = await sha256Of(source);
    index[source] = { key, sha256: sha };
    writeIndex(dir, index);
  }
  const target = join(dir, copyName(version, sha));
  if (options.dryRun) return target;
  if (!existsSync(target)) {
    const temp = join(dir, `.${copyName(version, sha)}.${process.pid}.tmp`);
    copyFileSync(source, temp);
    chmodSync(temp, 0o755);
    renameSync(temp, target);
  } else {
    // Its last use: pruning keeps what was used recently.
    const now = new Date();
    utimesSync(target, now, now);
  }
  return target;
}

/** Copies older than `maxAgeMs` (by last use) that no container mounts: removed (pure choice). */
export function copiesToPrune(copies: { name: string; mtimeMs: number }[], mounted: Set<string>, keep: string, now: number, maxAgeMs: number): string[] {
  return copies.filter((c) => versionOfCopy(c.name) !== undefined && c.name !== keep && !mounted.has(c.name) && now - c.mtimeMs > maxAgeMs).map((c) => c.name);
}

export const pruneAfterMs = 7 * 24 * 3600 * 1000;

/** Removes old unused copies; `mountedSources` are the host paths this engine's containers mount. */
export function pruneCopies(keepPath: string, mountedSources: string[], dir = storeBinDir(), now = Date.now()): string[] {
  if (!existsSync(dir)) return [];
  const mounted = new Set(mountedSources.filter((s) => s.startsWith(`${dir}/`)).map((s) => s.slice(dir.length + 1)));
  const copies = readdirSync(dir).map((name) => ({ name, mtimeMs: statSync(join(dir, name)).mtimeMs }));
  const doomed = copiesToPrune(copies, mounted, keepPath.slice(dir.length + 1), now, pruneAfterMs);
  for (const name of doomed) rmSync(join(dir, name), { force: true });
  return doomed;
}

/** Host paths mounted by any container of the local engine (best effort: [] when docker is not there). */
export async function engineMountSources(): Promise<string[] | undefined> {
  const docker = Bun.which("docker");
  if (!docker) return undefined;
  const run = async (args: string[]) => {
    const proc = Bun.spawn([docker, ...args], { stdout: "pipe", stderr: "ignore", stdin: "ignore" });
    const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    return code === 0 ? out : undefined;
  };
  const ids = (await run(["ps", "-aq"]))?.split("\n").filter(Boolean);
  if (ids === undefined) return undefined;
  if (ids.length === 0) return [];
  const sources = await run(["inspect", "--format", "{{range .Mounts}}{{.Source}}\n{{end}}", ...ids]);
  return sources?.split("\n").filter(Boolean);
}

/** After an `up` compose accepted: old copies nobody mounts go (never when the engine cannot be asked). */
export async function pruneUnusedCopies(keepPath: string): Promise<string[]> {
  const mounted = await engineMountSources();
  return mounted === undefined ? [] : pruneCopies(keepPath, mounted, dirname(keepPath));
}
