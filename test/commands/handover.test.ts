/** `cslr handover`: bad arguments are refused before anything is asked (exit 2, one line naming what is expected). */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { makeProject, removeProject, runCli } from "../helpers/cli.ts";

const projects: string[] = [];
afterAll(() => projects.forEach(removeProject));

describe("cslr handover arguments", () => {
  const rows: [string[], string][] = [
    [["handover", "--timeout", "soon"], "--timeout soon: expected seconds from 1 to 3600"],
    [["handover", "ray gpu"], "NODE ray gpu: not a node name; expected one like ray-gpu or ray-gpu.ws2"],
  ];
  for (const [argv, message] of rows) {
    test(argv.join(" "), async () => {
      const dir = makeProject();
      projects.push(dir);
      const result = await runCli(argv, { cwd: dir });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(message);
    });
  }

  test("without the cluster token in .env it says so (no request is sent)", async () => {
    const dir = makeProject();
    projects.push(dir);
    rmSync(join(dir, ".env"), { force: true });
    const result = await runCli(["handover", "ray-gpu"], { cwd: dir });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("no CSLR_CLUSTER_TOKEN; the election service takes a handover only with the cluster's token");
  });

  test("no election service running: the reason, exit 1", async () => {
    const dir = makeProject();
    projects.push(dir);
    const result = await runCli(["handover"], { cwd: dir });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("could not ask the election service: http://127.0.0.1:8888/v1/handover unreachable");
  });
});
