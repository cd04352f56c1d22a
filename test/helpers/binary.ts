/**
 * The one way tests get a compiled cslr: built from the current sources (src/, templates/,
 * the embedded example files and package.json) with the same options as `bun run build`, into
 * a cache folder named by a hash of those sources, so every test file and every run of the
 * suite reuses one build until a source changes. Never dist/cslr, which may be stale or absent.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { isAlive } from "./scratch.ts";

export const repoRoot = resolve(import.meta.dir, "../..");
const cacheRoot = join(tmpdir(), "cslr-test-binaries");

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** 16 hex digits of a SHA-256 over the files (their paths in the repo and contents, in path order), then `extra`. */
function hashOf(files: string[], extra = ""): string {
  const hasher = new Bun.CryptoHasher("sha256");
  for (const file of [...files].sort())
    hasher
      .update(`${file.slice(repoRoot.length)}\0`)
      .update(readFileSync(file))
      .update("\0");
  return hasher.update(extra).digest("hex").slice(0, 16);
}

function sourceHash(): string {
  return hashOf([
    ...filesUnder(join(repoRoot, "src")),
    ...filesUnder(join(repoRoot, "templates")),
    ...["package.json", "config.example.yaml", "nodes.yaml", "bun.lock"].map((f) => join(repoRoot, f)),
  ]);
}

let built: Promise<string> | undefined;

/**
 * Path of a compiled cslr for the current sources; builds it (~2 s, more under load) when the
 * cache has none. Most tests that run the CLI as a process run this binary: it starts in about
 * a third of the time `bun src/cli.ts` takes, which transpiles every source file on each start.
 */
export function compiledCslr(): Promise<string> {
  built ??= buildOnce(join(cacheRoot, sourceHash()), "cslr", async (partial) => {
    const result = await Bun.build({
      entrypoints: [join(repoRoot, "src/main.ts")],
      minify: true,
      bytecode: true,
      format: "esm",
      splitting: true,
      compile: { outfile: partial, autoloadDotenv: false, autoloadBunfig: false },
    });
    if (!result.success) throw new Error(`building cslr for the tests failed: ${result.logs.map(String).join("\n")}`);
  });
  return built;
}

/**
 * `dir/name`, built by `build(partialPath)` unless it exists. The parallel suite's two workers
 * ask at about the same time: one builds (holding `dir/name.lock`, made atomically, with its
 * pid inside), the other waits for it, so the build's CPU is spent once. Built beside the final
 * name and renamed, so no test ever runs half a binary.
 */
async function buildOnce(dir: string, name: string, build: (partial: string) => Promise<void>): Promise<string> {
  const out = join(dir, name);
  const lock = join(dir, `${name}.lock`);
  mkdirSync(dir, { recursive: true });
  while (!existsSync(out)) {
    if (takeLock(lock)) {
      try {
        const partial = join(dir, `${name}.${process.pid}.partial`);
        // Another worker may have finished between the check above and taking the lock.
        if (!existsSync(out)) {
          await build(partial);
          renameSync(partial, out);
          removeStaleBuilds(dir);
        }
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
    } else await Bun.sleep(50);
  }
  const now = new Date();
  utimesSync(dir, now, now);
  return out;
}

/** Builds of other sources unused for this long are removed (each is about 100 MB). */
const staleAfterMs = 60 * 60 * 1000;

/**
 * After a new build, removes the builds of the same kind (cslr, or the stand-in) that no run has
 * used for an hour: every edit of a source makes a new one, and a day of work otherwise left
 * gigabytes in /tmp. A run touches its builds at every test file's start, so a run in progress
 * (here or in another worktree) keeps its own.
 */
function removeStaleBuilds(fresh: string): void {
  const kind = (name: string) => name.startsWith("standin-");
  const freshName = fresh.slice(cacheRoot.length + 1);
  for (const name of readdirSync(cacheRoot)) {
    if (name === freshName || kind(name) !== kind(freshName)) continue;
    const dir = join(cacheRoot, name);
    try {
      const stale = Date.now() - statSync(dir).mtimeMs > staleAfterMs;
      if (stale && !readdirSync(dir).some((f) => f.endsWith(".lock"))) rmSync(dir, { recursive: true, force: true });
    } catch {
      // Removed by another test process meanwhile.
    }
  }
}

/** Takes the lock, or clears one whose builder is gone (a killed test run) so the next try takes it. */
function takeLock(lock: string): boolean {
  try {
    mkdirSync(lock);
    writeFileSync(join(lock, "pid"), String(process.pid));
    return true;
  } catch {
    const holder = lockHolder(lock);
    const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    // A lock without a pid yet is being taken right now, unless it has been like that for seconds.
    if ((holder > 0 && !isAlive(holder)) || (!holder && age > 5_000)) rmSync(lock, { recursive: true, force: true });
    return false;
  }
}

/** The pid in the lock, or 0 while it has none (just made, or just removed). */
function lockHolder(lock: string): number {
  try {
    return Number(readFileSync(join(lock, "pid"), "utf8")) || 0;
  } catch {
    return 0;
  }
}

let standIn: Promise<string> | undefined;

/**
 * A folder whose `ray` is the stand-in compiled from test/stand-in/*.ts (the Docker test image
 * bakes the same build): starting a compiled binary costs a few ms, the bash wrapper that runs
 * `bun ray.ts` transpiles on every start, which 8 nodes starting at once on 2 cores feel.
 */
export function compiledStandInDir(): Promise<string> {
  standIn ??= compiledStandIn();
  return standIn;
}

/**
 * The test image's options too (scripts/ci/build-test-images.sh): the stand-in starts over a
 * hundred times in the fast suite, and precompiled bytecode starts it in a quarter of the CPU
 * time (measured: about 15 ms against 60 ms).
 */
const standInOptions = { minify: true, bytecode: true, format: "esm" } as const;

async function compiledStandIn(): Promise<string> {
  const sources = readdirSync(join(repoRoot, "test/stand-in"))
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .map((f) => join(repoRoot, "test/stand-in", f));
  const dir = join(cacheRoot, `standin-${hashOf(sources, JSON.stringify(standInOptions))}`);
  await buildOnce(dir, "ray", async (partial) => {
    const result = await Bun.build({
      entrypoints: [join(repoRoot, "test/stand-in/ray.ts")],
      ...standInOptions,
      compile: { outfile: partial, autoloadDotenv: false, autoloadBunfig: false },
    });
    if (!result.success) throw new Error(`building the stand-in ray failed: ${result.logs.map(String).join("\n")}`);
  });
  return dir;
}
