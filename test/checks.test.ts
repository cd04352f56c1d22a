import { expect, test } from "bun:test";
import { checksDocument, failedChecks, renderChecks, runCheck, type Check } from "../src/checks.ts";

test("renderChecks marks each check and gives the fix only for failures", () => {
  const results: Check[] = [
    { id: "engine", name: "engine reachable", status: "ok", detail: "server version 28.2.2" },
    { id: "compose", name: "Compose v2", status: "fail", detail: "no Docker Compose found", fix: "install Compose v2" },
    { id: "gpu", name: "NVIDIA runtime", status: "skip", detail: "no GPU", fix: "never shown" },
    { id: "plain", name: "no detail", status: "ok" },
  ];
  expect(renderChecks(results)).toBe(
    "✓ engine reachable: server version 28.2.2\n✗ Compose v2: no Docker Compose found\n    fix: install Compose v2\n- NVIDIA runtime: no GPU\n✓ no detail\n",
  );
  expect(failedChecks(results).map((c) => c.id)).toEqual(["compose"]);
});

test("runCheck turns a check that throws into a failed check, never a crash", async () => {
  const result = await runCheck("x", "exploding check", () => {
    throw new Error("boom\nsecond line");
  });
  expect(result).toEqual({ id: "x", name: "exploding check", status: "fail", detail: "the check itself failed: boom" });
});

test("checksDocument: the --json of doctor and test, ok only when nothing failed", () => {
  const ok: Check = { id: "a", name: "a", status: "ok" };
  const skip: Check = { id: "b", name: "b", status: "skip" };
  const fail: Check = { id: "c", name: "c", status: "fail", fix: "do c" };
  expect(checksDocument([ok, skip])).toEqual({ schemaVersion: 1, ok: true, checks: [ok, skip] });
  expect(Object.keys(checksDocument([ok]))).toEqual(["schemaVersion", "ok", "checks"]);
  expect(checksDocument([ok, fail]).ok).toBe(false);
});
