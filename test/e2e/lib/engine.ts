/**
 * Whether a real Docker engine (with Compose v2 and the local test images) is here. Without
 * one the e2e suites are skipped with a visible message, so `bun test` works on a laptop; with
 * CSLR_E2E_REQUIRED=1 (CI) a missing engine is a failure instead.
 */
import { describe, test } from "bun:test";
import { pinnedVersions } from "../../../src/config/versions.ts";

/** The images every e2e suite needs (REAL_IMAGES=0 builds only these). */
export const testImages = {
  base: "cslr-test/debian:bookworm",
  redis: "cslr-test/redis:7",
  ray: "cslr-test/ray:standin",
} as const;

/** Real Ray, MLflow, Marimo and PostgreSQL at cslr's pinned versions (scripts/ci/build-test-images.sh). */
export const realImages = {
  ray: `cslr-test/ray:${pinnedVersions.ray}`,
  mlflow: `cslr-test/mlflow:${pinnedVersions.mlflow}`,
  marimo: `cslr-test/marimo:${pinnedVersions.marimo}`,
  postgres: `cslr-test/postgres:${pinnedVersions.postgres}`,
} as const;

export const e2eRequired = process.env.CSLR_E2E_REQUIRED === "1";

function run(argv: string[]): { code: number; out: string } {
  const path = Bun.which(argv[0]!);
  if (!path) return { code: 127, out: `${argv[0]} not found on PATH` };
  const result = Bun.spawnSync([path, ...argv.slice(1)], { stdout: "pipe", stderr: "pipe" });
  return { code: result.exitCode ?? 1, out: (result.stdout.toString() + result.stderr.toString()).trim() };
}

let engineCached: string | null | undefined;

function engineOnlyProblem(): string | null {
  if (engineCached !== undefined) return engineCached;
  const info = run(["docker", "info", "--format", "{{.ServerVersion}}"]);
  if (info.code !== 0) return (engineCached = `no Docker engine reachable (${info.out.split("\n")[0]}); run scripts/ci/install-docker.sh`);
  const compose = run(["docker", "compose", "version"]);
  if (compose.code !== 0 || !/version v?2\./i.test(compose.out)) return (engineCached = "Docker Compose v2 missing; run scripts/ci/install-docker.sh");
  return (engineCached = null);
}

/** null when the engine and the images are usable, else why not (one line, with what to run). */
export function engineProblem(images: readonly string[] = Object.values(testImages)): string | null {
  const engine = engineOnlyProblem();
  if (engine !== null) return engine;
  const missing = images.filter((image) => run(["docker", "image", "inspect", image]).code !== 0);
  if (missing.length > 0) return `test images missing (${missing.join(", ")}); run scripts/ci/build-test-images.sh`;
  return null;
}

/**
 * describe() when the engine and the images are there; else a visible skip, or a failing test
 * under CSLR_E2E_REQUIRED=1. `options.real` adds the real-software images.
 */
export function describeE2E(name: string, body: () => void, options: { real?: boolean } = {}): void {
  const problem = engineProblem([...Object.values(testImages), ...(options.real ? Object.values(realImages) : [])]);
  if (problem === null) {
    describe(name, body);
  } else if (e2eRequired) {
    describe(name, () => {
      test("a Docker engine is reachable (CSLR_E2E_REQUIRED=1)", () => {
        throw new Error(problem);
      });
    });
  } else {
    console.warn(`e2e skipped: ${name}: ${problem}`);
    describe.skip(name, body);
  }
}
