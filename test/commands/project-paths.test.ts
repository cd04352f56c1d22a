/**
 * Everything follows the config file's folder: `cslr --config other/config.yaml generate`, run
 * from another folder, reads other/nodes.yaml, other/.env and other/templates/, and writes
 * other/_build/, never the working directory's files.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { ejectedMarker } from "../../src/render/generate.ts";
import { dotenvText, fakeHealthBinary, runCli, writeElectionCertificate } from "../helpers/cli.ts";
import { templates } from "../../src/render/engine.ts";

const roots: string[] = [];
afterAll(() => roots.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A working folder holding a decoy project, and the real one in other/. */
function layout(): { cwd: string; other: string } {
  const cwd = mkdtempSync(join(tmpdir(), "cslr-paths-"));
  roots.push(cwd);
  const other = join(cwd, "other");
  mkdirSync(other);
  const config = (name: string, dir: string) =>
    `project:\n  name: ${name}\nservices:\n  health:\n    binary: ${fakeHealthBinary(dir)}\n  ray:\n    gpu:\n      enabled: false\n`;
  writeFileSync(join(other, "config.yaml"), config("other-project", other));
  // other/nodes.yaml: a timeout only it has, so its use shows in the rendered file.
  writeFileSync(join(other, "nodes.yaml"), "head_whitelist: [ray-cpu]\nhealth_service:\n  timeout: 7\n");
  writeFileSync(join(other, ".env"), dotenvText(), { mode: 0o600 });
  writeElectionCertificate(other);
  // The decoy: a nodes.yaml in the working folder that must not be read.
  writeFileSync(join(cwd, "nodes.yaml"), "head_whitelist: [ray-cpu]\nhealth_service:\n  timeout: 3\n");
  return { cwd, other };
}

function healthTimeout(composeFile: string): unknown {
  const compose = parse(readFileSync(composeFile, "utf8"));
  return compose.services["ray-cpu"].environment.CSLR_HEALTH_TIMEOUT;
}

describe("paths follow the config file's folder", () => {
  test.each([
    ["before the command", ["--config", "other/config.yaml", "generate"]],
    ["after the command", ["generate", "--config", "other/config.yaml"]],
    ["as --config=FILE before the command", ["--config=other/config.yaml", "generate"]],
  ])("--config %s: _build/ is written beside it, from its nodes.yaml", async (_where, args) => {
    const { cwd, other } = layout();
    const result = await runCli(args, { cwd });
    expect({ code: result.exitCode, stderr: result.stderr }).toMatchObject({ code: 0 });
    expect(existsSync(join(other, "_build/compose.yaml"))).toBe(true);
    expect(existsSync(join(cwd, "_build"))).toBe(false);
    expect(healthTimeout(join(other, "_build/compose.yaml"))).toBe(7);
    expect(parse(readFileSync(join(other, "_build/compose.yaml"), "utf8")).name).toBe("other-project");
  });

  test("template overrides are read from the config's folder, not the working folder", async () => {
    const { cwd, other } = layout();
    mkdirSync(join(other, "templates"));
    writeFileSync(join(other, "templates/compose.yaml.eta"), `# from other/templates\n${templates["compose.yaml"].text}`);
    mkdirSync(join(cwd, "templates"));
    writeFileSync(join(cwd, "templates/compose.yaml.eta"), `# from the working folder\n${templates["compose.yaml"].text}`);
    // Both ejected (the marker cslr templates eject writes): only the config's folder counts.
    for (const dir of [other, cwd]) writeFileSync(join(dir, "templates", ejectedMarker), "");
    const result = await runCli(["--config", "other/config.yaml", "generate"], { cwd });
    expect(result.exitCode).toBe(0);
    const text = readFileSync(join(other, "_build/compose.yaml"), "utf8");
    expect(text).toStartWith("# from other/templates\n");
  });

  test("init --config other/config.yaml writes nodes.yaml and .env beside it", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "cslr-paths-"));
    roots.push(cwd);
    mkdirSync(join(cwd, "other"));
    const result = await runCli(["init", "--config", "other/config.yaml"], { cwd });
    expect(result.exitCode).toBe(0);
    for (const name of ["config.yaml", "nodes.yaml", ".env", "config.schema.json"]) expect(existsSync(join(cwd, "other", name))).toBe(true);
    expect(existsSync(join(cwd, "nodes.yaml"))).toBe(false);
  });
});
