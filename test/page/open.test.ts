/** `cslr status` names the lab page; `cslr open` hands it to the desktop's opener, or prints it. */
import { expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openInBrowser } from "../../src/host/opener.ts";
import { stackFactsOfModel } from "../../src/status/stack.ts";
import { buildStatus, pageUrlOf, renderStatus } from "../../src/status/view.ts";
import { modelFixture } from "../helpers/model.ts";

test("the page is the election service's / at this host's published port, or the coordinator's URL on a member", () => {
  const here = stackFactsOfModel(modelFixture({}));
  expect(pageUrlOf(here, "10.0.0.5")).toBe(`http://10.0.0.5:${here.published.health}/`);
  const member = { ...here, published: { ...here.published, health: undefined }, rosterUrl: "http://10.0.0.9:8888" };
  expect(pageUrlOf(member, "10.0.0.5")).toBe("http://10.0.0.9:8888/");
  expect(pageUrlOf({ ...member, rosterUrl: "http://127.0.0.1:8888" }, "10.0.0.5")).toBeUndefined();
});

test("cslr status prints the page's address, without the token", () => {
  const stack = stackFactsOfModel(modelFixture({}));
  const report = buildStatus({ stack, projectName: "p", address: "10.0.0.5", rows: [], roster: { error: "down" }, clusterToken: "secret-token-abc" });
  const text = renderStatus(report);
  expect(text).toContain(`Lab page         http://10.0.0.5:${stack.published.health}/`);
  expect(report.page).toBe(`http://10.0.0.5:${stack.published.health}/`);
  expect(text.split("\n").find((l) => l.includes("Lab page"))).not.toContain("secret-token-abc");
});

test("open: runs xdg-open (open on macOS) with the URL as one argument; false without an opener", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cslr-open-"));
  try {
    const opener = join(dir, "opener");
    writeFileSync(opener, `#!/bin/sh\nprintf '%s\\n' "$#" "$1" > ${join(dir, "args")}\n`);
    chmodSync(opener, 0o755);
    const asked: string[] = [];
    const which = (name: string) => (asked.push(name), opener);
    expect(await openInBrowser("http://10.0.0.5:8888/", "linux", which)).toBe(true);
    expect(readFileSync(join(dir, "args"), "utf8")).toBe("1\nhttp://10.0.0.5:8888/\n");
    expect(await openInBrowser("http://10.0.0.5:8888/", "darwin", which)).toBe(true);
    expect(asked).toEqual(["xdg-open", "open"]);
    expect(await openInBrowser("http://10.0.0.5:8888/", "linux", () => null)).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
