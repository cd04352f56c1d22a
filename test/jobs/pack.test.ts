import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CslrError, UsageError } from "../../src/errors.ts";
import { largestFiles, packWorkingDir } from "../../src/jobs/pack.ts";
import { ZipWriter } from "../../src/jobs/zip.ts";
import { makeTree, scratchDir } from "./tree.ts";
import { readZip } from "./zip-reader.ts";

const MiB = 1024 ** 2;

describe("the zip", () => {
  test("files at the root of the zip (Ray does not strip a folder from gcs:// packages), modes kept, fixed order", () => {
    const root = makeTree({ "train.py": "print('hi')\n".repeat(50), "conf/a.yaml": "lr: 1\n", "outputs/": "", "bin/run.sh": "#!/bin/sh\necho\n" });
    chmodSync(join(root, "bin/run.sh"), 0o700);
    const pkg = packWorkingDir(root);
    const entries = readZip(pkg.bytes);
    expect(entries.map((e) => [e.name, e.mode.toString(8)])).toEqual([
      ["outputs/", "40755"],
      // 0700 (owner only) stays owner only: Ray chmods what the zip says.
      ["bin/run.sh", "100700"],
      ["conf/a.yaml", "100644"],
      ["train.py", "100644"],
    ]);
    expect(new TextDecoder().decode(entries.find((e) => e.name === "train.py")!.data)).toBe("print('hi')\n".repeat(50));
    expect(entries.find((e) => e.name === "train.py")!.method).toBe(8);
    expect(pkg.name).toBe(`_ray_pkg_${pkg.sha256}.zip`);
    expect(pkg.uri).toBe(`gcs://_ray_pkg_${pkg.sha256}.zip`);
    expect(pkg.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect([pkg.fileCount, pkg.totalBytes]).toEqual([3, 600 + 6 + 15]);
  });

  test("incompressible files are stored, non-ASCII names are flagged UTF-8", () => {
    const zip = new ZipWriter();
    zip.addFile("données/é.bin", crypto.getRandomValues(new Uint8Array(4096)), false);
    const [entry] = readZip(zip.finish());
    expect(entry!.name).toBe("données/é.bin");
    expect(entry!.method).toBe(0);
    expect(entry!.flags & 0x0800).toBe(0x0800);
  });

  test("more than 65,535 entries get Zip64 end records", () => {
    const zip = new ZipWriter();
    const empty = new Uint8Array(0);
    for (let i = 0; i < 70_000; i++) zip.addFile(`f/${i}`, empty, false);
    const entries = readZip(zip.finish());
    expect(entries.length).toBe(70_000);
    expect(entries[69_999]!.name).toBe("f/69999");
  });

  const python = Bun.which("python3");
  test.skipIf(!python)("Python's zipfile, which Ray unpacks with, reads it and sees the modes Ray applies", () => {
    const root = makeTree({ "a.py": "x = 1\n", "s/run.sh": "#!/bin/sh\n", "empty/": "", "é.txt": "ü" });
    chmodSync(join(root, "s/run.sh"), 0o755);
    const out = join(scratchDir(), "p.zip");
    writeFileSync(out, packWorkingDir(root).bytes);
    const script = [
      "import sys, zipfile",
      "z = zipfile.ZipFile(sys.argv[1])",
      "assert z.testzip() is None",
      "for i in z.infolist(): print(i.filename, oct(i.external_attr >> 16), i.file_size)",
    ].join("\n");
    const run = Bun.spawnSync([python!, "-c", script, out], { stdout: "pipe", stderr: "pipe" });
    expect(new TextDecoder().decode(run.stderr)).toBe("");
    expect(new TextDecoder().decode(run.stdout).trim().split("\n")).toEqual([
      "empty/ 0o40755 0",
      "a.py 0o100644 6",
      "s/run.sh 0o100755 10",
      "é.txt 0o100644 2",
    ]);
  });
  if (!python) console.log("python3 not found: the check of the zip with Python's zipfile is skipped");
});

describe("determinism", () => {
  const tree = { "train.py": "import ray\n", "data/labels.csv": "a,b\n", ".gitignore": "*.log\n", "run.log": "noise 1\n", "empty/": "" };

  test("the same tree packs to the same bytes, wherever it is and whenever", () => {
    const a = packWorkingDir(makeTree(tree));
    const b = packWorkingDir(makeTree(tree));
    expect(b.sha256).toBe(a.sha256);
    expect(Buffer.from(b.bytes).equals(Buffer.from(a.bytes))).toBe(true);
  });

  test("a changed file gives another hash", () => {
    const a = packWorkingDir(makeTree(tree));
    const b = packWorkingDir(makeTree({ ...tree, "train.py": "import ray  # changed\n" }));
    expect(b.sha256).not.toBe(a.sha256);
  });

  test("a file made executable gives another hash", () => {
    const root = makeTree(tree);
    const a = packWorkingDir(root);
    chmodSync(join(root, "train.py"), 0o755);
    expect(packWorkingDir(root).sha256).not.toBe(a.sha256);
  });

  test("a group-writable file (another umask) gives the same hash", () => {
    const root = makeTree(tree);
    const a = packWorkingDir(root);
    chmodSync(join(root, "train.py"), 0o664);
    expect(packWorkingDir(root).sha256).toBe(a.sha256);
  });

  test("a change to an ignored file keeps the hash", () => {
    const a = packWorkingDir(makeTree(tree));
    const b = packWorkingDir(makeTree({ ...tree, "run.log": "noise 2, much longer\n", "node_modules/x.js": "1" }));
    expect(b.sha256).toBe(a.sha256);
  });
});

describe("size limits", () => {
  test("over the limit: one line with the size, the limit, the largest files and the fix (sparse files, nothing read)", () => {
    const root = makeTree({ "train.py": "x" });
    for (const [name, size] of [
      ["data/big.bin", 400 * MiB],
      ["model.pt", 150 * MiB],
      ["small.bin", 1 * MiB],
    ] as const) {
      mkdirSync(join(root, "data"), { recursive: true });
      writeFileSync(join(root, name), "");
      truncateSync(join(root, name), size);
    }
    let error: unknown;
    try {
      packWorkingDir(root);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CslrError);
    const message = (error as Error).message;
    expect(message).not.toContain("\n");
    expect(message).toBe(
      `working directory ${root} is 551.0 MiB, over Ray's limit of 500.0 MiB; largest files: data/big.bin 400.0 MiB, model.pt 150.0 MiB, small.bin 1.0 MiB, train.py 0.0 MiB; ` +
        "list what the job does not need in .rayignore (or .gitignore), or pick a smaller folder with --working-dir",
    );
  });

  test("ignored files do not count", () => {
    const root = makeTree({ ".rayignore": "*.bin\n", "train.py": "x" });
    writeFileSync(join(root, "huge.bin"), "");
    truncateSync(join(root, "huge.bin"), 600 * MiB);
    expect(packWorkingDir(root).fileCount).toBe(2);
  });

  test("a zip over the dashboard's upload limit is refused before uploading", () => {
    const root = makeTree({ "noise.bin": "" });
    writeFileSync(join(root, "noise.bin"), crypto.getRandomValues(new Uint8Array(60_000)));
    expect(() => packWorkingDir(root, { maxUploadBytes: 50_000 })).toThrow(
      /^the zip of .* is 0\.1 MiB, over the largest upload Ray's dashboard accepts of 0\.0 MiB; largest files: noise\.bin/,
    );
  });

  test("largestFiles names at most five, largest first", () => {
    const files = [1, 5, 3, 9, 7, 2].map((n) => ({ path: `f${n}`, size: n * MiB }));
    expect(largestFiles(files)).toBe("f9 9.0 MiB, f7 7.0 MiB, f5 5.0 MiB, f3 3.0 MiB, f2 2.0 MiB");
  });

  test("a missing working directory is bad usage", () => {
    expect(() => packWorkingDir("/nonexistent/cslr-dir")).toThrow(UsageError);
  });
});

test("a 1,000-file tree in nested folders: every file is packed, the .gitignore too (the packing rate is bun run bench's)", () => {
  const root = scratchDir();
  const line = "import numpy as np\nfrom ray import tune\n\ndef step(config):\n    return config['lr'] * 2\n";
  for (let d = 0; d < 10; d++) {
    const dir = join(root, `pkg${d}`, `sub${d % 7}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(join(dir, `m${f}.py`), line.repeat(1 + ((d * 31 + f * 17) % 60)));
  }
  writeFileSync(join(root, ".gitignore"), "*.log\nbuild/\n");
  const pkg = packWorkingDir(root);
  expect(pkg.fileCount).toBe(1_001);
});
