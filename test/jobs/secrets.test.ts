/**
 * `cslr run` never ships secrets (issue 17): what a job folder holds that must stay home, links
 * that lead out of it, file modes, names and permissions that cannot go into a zip, and a file
 * too large for the upload cap, found out without reading it all.
 */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CslrError } from "../../src/errors.ts";
import { packWorkingDir } from "../../src/jobs/pack.ts";
import { makeTree, scratchDir } from "./tree.ts";
import { readZip } from "./zip-reader.ts";

const names = (root: string) => readZip(packWorkingDir(root).bytes).map((e) => e.name);

describe("files that may hold secrets stay home, each named in a note", () => {
  test(".env and .env.*, _build/, keys and certificates, SSH keys; a `!` in .rayignore does not bring them back", () => {
    const root = makeTree({
      "train.py": "print(1)\n",
      ".env": "CSLR_CLUSTER_TOKEN=abcdefgh12345678\n",
      ".env.local": "X=1\n",
      "_build/compose.yaml": "services: {}\n",
      "certs/server.pem": "-----BEGIN CERTIFICATE-----\n",
      "tls.key": "k\n",
      ".ssh/id_ed25519": "-----BEGIN OPENSSH PRIVATE KEY-----\n",
      id_rsa: "-----BEGIN RSA PRIVATE KEY-----\n",
      "id_rsa.pub": "ssh-rsa AAAA\n",
      ".rayignore": "!.env\n!_build/\n",
    });
    const pkg = packWorkingDir(root);
    expect(readZip(pkg.bytes).map((e) => e.name)).toEqual([".ssh/", "certs/", ".rayignore", "id_rsa.pub", "train.py"]);
    expect(pkg.notes.sort()).toEqual([
      ".env.local: skipped, may hold secrets (.env files are never uploaded)",
      ".env: skipped, may hold secrets (.env files are never uploaded)",
      ".ssh/id_ed25519: skipped, an SSH private key (never uploaded)",
      "_build/: skipped, cslr's generated folder, next to the secrets",
      "certs/server.pem: skipped, a key or certificate (never uploaded)",
      "id_rsa: skipped, an SSH private key (never uploaded)",
      "tls.key: skipped, a key or certificate (never uploaded)",
    ]);
  });

  test("the project's config.yaml with a secret from .env or a URL with a password stays home; one without is packed", () => {
    const withSecret = makeTree({
      ".env": "REDIS_PASSWORD=s3cr3t-value-1234\n",
      "config.yaml": "services:\n  redis:\n    password: s3cr3t-value-1234\n",
      "nodes.yaml": "head_whitelist: [a]\n",
    });
    const pkg = packWorkingDir(withSecret);
    expect(readZip(pkg.bytes).map((e) => e.name)).toEqual(["nodes.yaml"]);
    expect(pkg.notes).toContain("config.yaml: skipped, holds a secret from .env (a project file with secrets is never uploaded)");

    const withUrl = makeTree({ "nodes.yaml": "health_service:\n  url: http://admin:hunter2@10.0.0.5:8080\n", "train.py": "" });
    expect(names(withUrl)).toEqual(["train.py"]);

    const plain = makeTree({ ".env": "REDIS_PASSWORD=s3cr3t-value-1234\n", "config.yaml": "project:\n  name: lab\n" });
    expect(names(plain)).toEqual(["config.yaml"]);
  });
});

describe("links, modes, names and permissions", () => {
  test("a link to a folder outside (ln -s /etc) is not followed and is named; a link inside is followed", () => {
    const root = makeTree({ "train.py": "", "data/a.csv": "1\n" });
    symlinkSync("/etc", join(root, "etc"));
    symlinkSync(join(root, "data"), join(root, "data-link"));
    const outside = scratchDir();
    writeFileSync(join(outside, "secret.txt"), "x");
    symlinkSync(join(outside, "secret.txt"), join(root, "secret.txt"));
    const pkg = packWorkingDir(root);
    expect(readZip(pkg.bytes).map((e) => e.name)).toEqual(["data-link/a.csv", "data/a.csv", "train.py"]);
    expect(pkg.notes.sort()).toEqual([
      "etc: skipped, a symbolic link to /etc, outside the working folder (not followed)",
      `secret.txt: skipped, a symbolic link to ${join(outside, "secret.txt")}, outside the working folder (not followed)`,
    ]);
  });

  test("a file only its owner may read stays so in the zip (0600, 0700); others stay 0644/0755", () => {
    const root = makeTree({ "private.txt": "p", "private.sh": "#!/bin/sh\n", "open.txt": "o" });
    chmodSync(join(root, "private.txt"), 0o600);
    chmodSync(join(root, "private.sh"), 0o700);
    chmodSync(join(root, "open.txt"), 0o664);
    const modes = Object.fromEntries(readZip(packWorkingDir(root).bytes).map((e) => [e.name, e.mode.toString(8)]));
    expect(modes).toEqual({ "open.txt": "100644", "private.sh": "100700", "private.txt": "100600" });
  });

  test("a name that is not UTF-8 is skipped with a note naming its bytes", () => {
    const root = makeTree({ "train.py": "" });
    writeFileSync(Buffer.concat([Buffer.from(`${root}/caf`), Buffer.from([0xe9]), Buffer.from(".txt")]), "x");
    const pkg = packWorkingDir(root);
    expect(readZip(pkg.bytes).map((e) => e.name)).toEqual(["train.py"]);
    expect(pkg.notes).toEqual(['"caf\\xe9.txt": skipped, its name is not UTF-8 (a zip names files in UTF-8)']);
  });

  // Root reads everything: the check runs as nobody (setpriv), as a user without the rights would.
  test.skipIf(process.getuid?.() !== 0 || !Bun.which("setpriv"))(
    "unreadable files and folders are skipped with a note; an unreadable working folder is one line, exit 2",
    () => {
      const root = makeTree({ "train.py": "print(1)\n", "locked.txt": "x", "closed/inner.txt": "y" });
      chmodSync(join(root, "locked.txt"), 0o000);
      chmodSync(join(root, "closed"), 0o000);
      const shut = makeTree({ "a.py": "" });
      chmodSync(shut, 0o000);
      const script = `
      const { packWorkingDir } = await import(${JSON.stringify(join(import.meta.dir, "../../src/jobs/pack.ts"))});
      const pkg = packWorkingDir(${JSON.stringify(root)});
      console.log(JSON.stringify({ files: pkg.fileCount, notes: pkg.notes.sort() }));
      try { packWorkingDir(${JSON.stringify(shut)}); } catch (e) { console.log(JSON.stringify({ error: e.message, exit: e.exitCode ?? null })); }
    `;
      for (const dir of [root, join(root, ".."), join(root, "../..")]) chmodSync(dir, 0o755);
      const proc = Bun.spawnSync(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", process.execPath, "-e", script], { cwd: "/" });
      const lines = proc.stdout
        .toString()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect({ stderr: proc.stderr.toString(), first: lines[0] }).toEqual({
        stderr: "",
        first: { files: 1, notes: ["closed/: skipped, cannot be read (EACCES)", "locked.txt: skipped, cannot be read (EACCES)"] },
      });
      expect(lines[1]).toEqual({ error: `--working-dir ${shut}: cannot be read (EACCES); give a folder you can read`, exit: 2 });
    },
  );
});

describe("the upload cap, found out early", () => {
  /** Bytes this process has read through read(2) so far (/proc/self/io rchar). */
  const bytesRead = () => Number(/^rchar: (\d+)$/m.exec(readFileSync("/proc/self/io", "utf8"))![1]);

  test("a file of noise four times the cap is refused after reading its first 4 MiB, not all of it", () => {
    const MiB = 1024 ** 2;
    const root = makeTree({ "train.py": "" });
    const noise = new Uint8Array(40 * MiB);
    for (let i = 0; i < noise.length; i += 65536) crypto.getRandomValues(noise.subarray(i, i + 65536));
    writeFileSync(join(root, "noise.bin"), noise);
    const before = bytesRead();
    let error: unknown;
    try {
      packWorkingDir(root, { maxUploadBytes: 10 * MiB });
    } catch (e) {
      error = e;
    }
    const read = bytesRead() - before;
    expect(error).toBeInstanceOf(CslrError);
    expect((error as Error).message).toMatch(
      /^the zip of .* \(foreseen from its files' first 4 MiB\) is 40\.\d MiB, over the largest upload Ray's dashboard accepts of 10\.0 MiB; largest files: noise\.bin 40\.0 MiB/,
    );
    expect(read).toBeLessThan(8 * MiB);
  });

  test("a large file that compresses well is still packed (the foresight only refuses what cannot fit)", () => {
    const root = makeTree({ "train.py": "" });
    mkdirSync(join(root, "data"));
    writeFileSync(join(root, "data/zeros.csv"), new Uint8Array(12 * 1024 * 1024));
    expect(packWorkingDir(root, { maxUploadBytes: 10 * 1024 * 1024 }).fileCount).toBe(2);
  });
});
