/**
 * The one way tests get a compiled cslr: built from the current sources (src/, templates/,
 * the embedded example files and package.json) with the same options as `bun run build`, into
 * a cache folder named by a hash of those sources, so every test file and every run of the
 * suite reuses one build until a source changes. Never dist/cslr, which may be stale or absent.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const repoRoot = resolve(import.meta.dir, "../..");

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function sourceHash(): string {
  const files = [
    ...filesUnder(join(repoRoot, "src")),
    ...filesUnder(join(repoRoot, "templates")),
    ...["package.json", "config.example.yaml", "nodes.yaml", "bun.lock"].map((f) => join(repoRoot, f)),
  ].sort();
  const hasher = new Bun.CryptoHasher("sha256");
  for (const file of files)
    hasher
      .update(`${file.slice(repoRoot.length)}\0`)
      .update(readFileSync(file))
      .update("\0");
  return hasher.digest("hex").slice(0, 16);
}

let built: string | undefined;

/** Path of a compiled cslr for the current sources; builds it (~1–2 s) when the cache has none. */
export async function compiledCslr(): Promise<string> {
  if (built) return built;
  const dir = join(tmpdir(), "cslr-test-binaries", sourceHash());
  const out = join(dir, "cslr");
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    // Build beside the final name and rename: a concurrent test file never runs half a binary.
    const partial = join(dir, `cslr.${process.pid}.partial`);
    const result = await Bun.build({
      entrypoints: [join(repoRoot, "src/main.ts")],
      minify: true,
      bytecode: true,
      format: "esm",
      splitting: true,
      compile: { outfile: partial, autoloadDotenv: false, autoloadBunfig: false },
    });
    if (!result.success) throw new Error(`building cslr for the tests failed: ${result.logs.map(String).join("\n")}`);
    renameSync(partial, out);
  }
  return (built = out);
}

let standIn: string | undefined;

/**
 * A folder whose `ray` is the stand-in compiled from test/stand-in/*.ts (the Docker test image
 * bakes the same build): starting a compiled binary costs a few ms, the bash wrapper that runs
 * `bun ray.ts` transpiles on every start, which 8 nodes starting at once on 2 cores feel.
 */
export async function compiledStandInDir(): Promise<string> {
  if (standIn) return standIn;
  const sources = readdirSync(join(repoRoot, "test/stand-in"))
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .map((f) => join(repoRoot, "test/stand-in", f))
    .sort();
  const hasher = new Bun.CryptoHasher("sha256");
  for (const file of sources)
    hasher
      .update(`${file.slice(repoRoot.length)}\0`)
      .update(readFileSync(file))
      .update("\0");
  const dir = join(tmpdir(), "cslr-test-binaries", `standin-${hasher.digest("hex").slice(0, 16)}`);
  if (!existsSync(join(dir, "ray"))) {
    mkdirSync(dir, { recursive: true });
    const partial = join(dir, `ray.${process.pid}.partial`);
    const result = await Bun.build({
      entrypoints: [join(repoRoot, "test/stand-in/ray.ts")],
      compile: { outfile: partial, autoloadDotenv: false, autoloadBunfig: false },
    });
    if (!result.success) throw new Error(`building the stand-in ray failed: ${result.logs.map(String).join("\n")}`);
    renameSync(partial, join(dir, "ray"));
  }
  return (standIn = dir);
}
