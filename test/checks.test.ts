import { expect, test } from "bun:test";
import { failedChecks, renderChecks, runCheck, type Check } from "../src/checks.ts";

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
