import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copiesToPrune, copyName, installCopy, pruneCopies, storeRoot, versionOfCopy } from "../../src/host/binary-store.ts";

const root = mkdtempSync(join(tmpdir(), "cslr-store-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function binary(name: string, content: string): string {
  const path = join(root, name);
  writeFileSync(path, content);
  chmodSync(path, 0o755);
  return path;
}

describe("names (pure)", () => {
  test("a copy is named by version and content; the name gives the version back", () => {
    const name = copyName("0.1.0", "ab".repeat(32));
    expect(name).toBe("cslr-0.1.0-abababababababab");
    expect(versionOfCopy(name)).toBe("0.1.0");
    expect(versionOfCopy(".index.json")).toBeUndefined();
  });

  test("the store: CSLR_HOME, else XDG_DATA_HOME/cslr, else ~/.local/share/cslr", () => {
    expect(storeRoot({ CSLR_HOME: "/x" })).toBe("/x");
    expect(storeRoot({ XDG_DATA_HOME: "/d" })).toBe("/d/cslr");
    expect(storeRoot({})).toEndWith("/.local/share/cslr");
  });
});

describe("installCopy", () => {
  test("copies once: the same content anywhere maps to one immutable, executable copy", async () => {
    const dir = join(root, "store1");
    const a = binary("cslr-a", "binary one");
    const b = binary("cslr-b", "binary one");
    const copyA = await installCopy(a, "0.1.0", { dir });
    const copyB = await installCopy(b, "0.1.0", { dir });
    expect(copyA).toBe(copyB);
    expect(readFileSync(copyA, "utf8")).toBe("binary one");
    expect(statSync(copyA).mode & 0o111).not.toBe(0);
    expect(readdirSync(dir).filter((n) => versionOfCopy(n))).toHaveLength(1);
  });

  test("the downloaded file replaced, moved or deleted: the copy a stack mounts stays as it was", async () => {
    const dir = join(root, "store2");
    const downloaded = binary("cslr-dl", "version 1");
    const first = await installCopy(downloaded, "0.1.0", { dir });
    writeFileSync(downloaded, "version 2 (an upgrade in place)");
    const second = await installCopy(downloaded, "0.2.0", { dir });
    expect(second).not.toBe(first);
    expect(readFileSync(first, "utf8")).toBe("version 1");
    rmSync(downloaded);
    expect(existsSync(first) && existsSync(second)).toBe(true);
  });

  test("--dry-run names the copy without writing it", async () => {
    const dir = join(root, "store3");
    const path = await installCopy(binary("cslr-dry", "dry"), "0.1.0", { dir, dryRun: true });
    expect(existsSync(path)).toBe(false);
  });
});

describe("pruning", () => {
  const day = 24 * 3600 * 1000;
  test("only copies unused for a week that no container mounts, never the current one (pure)", () => {
    const now = 100 * day;
    const copies = [
      { name: "cslr-0.1.0-aaaaaaaaaaaaaaaa", mtimeMs: now - 30 * day },
      { name: "cslr-0.1.0-bbbbbbbbbbbbbbbb", mtimeMs: now - 30 * day },
      { name: "cslr-0.1.0-cccccccccccccccc", mtimeMs: now - 1 * day },
      { name: "cslr-0.2.0-dddddddddddddddd", mtimeMs: now - 30 * day },
      { name: ".index.json", mtimeMs: now - 30 * day },
    ];
    const doomed = copiesToPrune(copies, new Set(["cslr-0.1.0-bbbbbbbbbbbbbbbb"]), "cslr-0.2.0-dddddddddddddddd", now, 7 * day);
    expect(doomed).toEqual(["cslr-0.1.0-aaaaaaaaaaaaaaaa"]);
  });

  test("on disk: removes the old unmounted copy and keeps the rest", async () => {
    const dir = join(root, "store4");
    const old = await installCopy(binary("cslr-old", "old"), "0.1.0", { dir });
    const mounted = await installCopy(binary("cslr-mounted", "mounted"), "0.1.0", { dir });
    const current = await installCopy(binary("cslr-cur", "current"), "0.1.0", { dir });
    const longAgo = new Date(Date.now() - 30 * day);
    for (const p of [old, mounted, current]) utimesSync(p, longAgo, longAgo);
    expect(pruneCopies(current, [mounted, "/elsewhere/x"], dir)).toEqual([old.slice(dir.length + 1)]);
    expect([existsSync(old), existsSync(mounted), existsSync(current)]).toEqual([false, true, true]);
  });
});
