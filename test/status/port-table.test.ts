import { afterAll, expect, test } from "bun:test";
import { portTableLines } from "../../src/status/port-table.ts";
import { makeProject, removeProject, runCli } from "../helpers/cli.ts";

const projects: string[] = [];
afterAll(() => projects.forEach(removeProject));

test("ranges and names wider than before keep the columns aligned", () => {
  const lines = portTableLines([
    { port: 5000, service: "mlflow", what: "services.mlflow.port" },
    { port: 6700, service: "test-ray-worker", what: "node manager" },
    { port: 20010, service: "ray-cpu", what: "workers" },
    { port: 20011, service: "ray-cpu", what: "workers" },
  ]);
  expect(lines).toEqual([
    "  5000         mlflow           services.mlflow.port",
    "  6700         test-ray-worker  node manager",
    "  20010-20011  ray-cpu          workers",
  ]);
});

test("cslr ports on the host network: every row's purpose starts in the same column", async () => {
  const dir = makeProject({ config: "network:\n  mode: host\nservices:\n  ray:\n    gpu:\n      enabled: false\n" });
  projects.push(dir);
  const result = await runCli(["ports"], { cwd: dir });
  expect(result.exitCode).toBe(0);
  const table = result.stdout.split("\n").slice(1, result.stdout.split("\n").indexOf(""));
  expect(table.length).toBeGreaterThan(5);
  expect(table.some((l) => l.includes("test-ray-worker"))).toBe(true);
  // Where the third column (the purpose) starts: after the range, the service and their padding.
  const column = (line: string) => /^\s+\S+\s+\S+\s+/.exec(line)![0].length;
  expect(new Set(table.map(column)).size).toBe(1);
});
