/**
 * A laptop as a client: `cslr join --client URL --token TOKEN` asks a real election service
 * (over HTTP) for the join information and writes only ~/.config/cslr/client.json (0600); then
 * `cslr run` from an empty folder finds the head through the coordinator's roster, sends Ray's
 * token, and puts the job in the project's MLflow experiment. The head is the fake Jobs API.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeKey } from "../../src/election/auth.ts";
import type { JoinInfo } from "../../src/election/membership.ts";
import { startElectionServer, type ElectionServer } from "../../src/election/server.ts";
import { clientProfilePath, clusterOf, readClientProfile } from "../../src/jobs/client-profile.ts";
import { reachableHeadAddress } from "../../src/jobs/project-target.ts";
import pkg from "../../package.json" with { type: "json" };
import { runCli } from "../helpers/cli.ts";
import { FakeRay } from "./fake-ray.ts";

const clusterToken = "cluster-token-for-the-client-test";
const rayToken = "rayTokenForTheClientTest_0123456789";
const root = realpathSync(mkdtempSync(join(tmpdir(), "cslr-client-")));
let fake: FakeRay;
let election: ElectionServer;
const savedRayToken = process.env.RAY_AUTH_TOKEN;

beforeAll(async () => {
  fake = new FakeRay({ token: rayToken, steps: [{ status: "RUNNING" }, { log: "sum of squares: 285\n" }, { status: "SUCCEEDED", exitCode: 0 }] });
  const dashboardPort = Number(new URL(fake.url).port);
  const info: JoinInfo = {
    version: 1,
    cslrVersion: pkg.version,
    project: "lab",
    coordinator: { url: "http://127.0.0.1:8888", address: "127.0.0.1", name: "ws1" },
    election: { whitelist: ["ray-cpu"], leaseTtl: 30, timeout: 10 },
    ray: {
      cpuImage: "rayproject/ray:2.60.0",
      gpuImage: "rayproject/ray:2.60.0-gpu",
      cpu: { head_port: 6379, dashboard_port: dashboardPort, client_port: 10001 },
      gpu: { head_port: 6380, dashboard_port: 8266, client_port: 10002 },
      hostPorts: { base: 20000, per_node: 100 },
      auth: "token",
    },
    mlflow: { trackingUri: "http://10.0.0.5:5000" },
    redis: {},
  };
  // The service hands out Ray's token from its own environment (as in its container).
  process.env.RAY_AUTH_TOKEN = rayToken;
  election = startElectionServer({
    host: "127.0.0.1",
    port: 0,
    whitelist: ["ray-cpu"],
    leaseTtlMs: 30_000,
    token: clusterToken,
    joinInfo: info,
    log: () => {},
  });
  const as = (path: string, body: unknown) =>
    fetch(`${election.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${nodeKey(clusterToken, "ray-cpu")}` }, body: JSON.stringify(body) });
  const claim = (await (await as("/v1/claim", { node: "ray-cpu", address: "127.0.0.1:6379" })).json()) as { term: number };
  expect((await as("/v1/ready", { node: "ray-cpu", term: claim.term })).status).toBe(200);
});

afterAll(async () => {
  fake?.stop();
  await election?.stop();
  if (savedRayToken === undefined) delete process.env.RAY_AUTH_TOKEN;
  else process.env.RAY_AUTH_TOKEN = savedRayToken;
  rmSync(root, { recursive: true, force: true });
});

/** A laptop: its own HOME, an empty folder, none of the cluster's variables. */
function laptop(name: string): { home: string; dir: string; env: Record<string, string | undefined> } {
  const home = join(root, name, "home");
  const dir = join(root, name, "experiment");
  Bun.spawnSync(["mkdir", "-p", home, dir]);
  return {
    home,
    dir,
    env: {
      HOME: home,
      XDG_CONFIG_HOME: undefined,
      CSLR_CLUSTER: undefined,
      CSLR_CLUSTER_TOKEN: undefined,
      RAY_AUTH_TOKEN: undefined,
      RAY_API_SERVER_ADDRESS: undefined,
      MLFLOW_TRACKING_URI: undefined,
    },
  };
}

test("join --client writes only the profile (0600), and run from an empty folder lands in the project's experiment with Ray's token", async () => {
  const { home, dir, env } = laptop("a");
  const joined = await runCli(["join", "--client", election.url, "--token", clusterToken], { cwd: dir, env });
  expect(joined.stderr).toContain(`this machine is a client of lab at ${election.url}`);
  expect(joined.exitCode).toBe(0);
  const path = join(home, ".config/cslr/client.json");
  expect(statSync(path).mode & 0o777).toBe(0o600);
  expect(statSync(join(home, ".config/cslr")).mode & 0o777).toBe(0o700);
  expect(readClientProfile(path)).toEqual({
    version: 1,
    coordinator: election.url,
    experiment: "lab",
    dashboardPorts: { "ray-cpu": Number(new URL(fake.url).port), "ray-gpu": 8266 },
    rayToken,
    mlflowTrackingUri: "http://10.0.0.5:5000",
  });
  expect(existsSync(join(dir, "config.yaml"))).toBe(false);

  writeFileSync(join(dir, "train.py"), "print('sum of squares:', 285)\n");
  const before = fake.submitted().length;
  const run = await runCli(["run", "--", "python", "train.py"], { cwd: dir, env });
  expect(run.stderr).not.toContain("embedded example");
  expect(run.exitCode).toBe(0);
  expect(run.stdout).toContain("sum of squares: 285");
  const body = fake.submitted()[before]!;
  expect(body.entrypoint).toBe("python train.py");
  expect(body.runtime_env!.env_vars).toMatchObject({ MLFLOW_EXPERIMENT_NAME: "lab", MLFLOW_TRACKING_URI: "http://10.0.0.5:5000" });
}, 60_000);

test("--cluster and CSLR_CLUSTER name the coordinator (the profile's ports and token apply to its own cluster); a bad one is exit 2", async () => {
  const { dir, env } = laptop("b");
  const profileHome = join(root, "a", "home");
  for (const named of [["--cluster", election.url], []]) {
    const jobs = await runCli(["jobs", "--json", ...named], {
      cwd: dir,
      env: { ...env, HOME: profileHome, CSLR_CLUSTER: named.length ? undefined : election.url },
    });
    expect(jobs.exitCode).toBe(0);
    expect(JSON.parse(jobs.stdout).jobs.map((j: { entrypoint: string }) => j.entrypoint)).toContain("python train.py");
  }
  const bad = await runCli(["jobs", "--cluster", "not-a-url"], { cwd: dir, env });
  expect(bad.exitCode).toBe(2);
  expect(bad.stderr.trim()).toBe('--cluster "not-a-url": expected the coordinator\'s URL, like http://10.0.0.5:8888');
}, 60_000);

test("no project, no cluster named, no profile: one line saying what to do, exit 2", async () => {
  const { home, dir, env } = laptop("c");
  const result = await runCli(["run", "--", "python", "train.py"], { cwd: dir, env });
  expect(result.exitCode).toBe(2);
  expect(result.stderr.trim()).toBe(
    `no cslr project here (no config.yaml with nodes.yaml in ${dir} or a folder above it) and no cluster named: run \`cslr join --client URL --token TOKEN\` once (writes ${join(home, ".config/cslr/client.json")}), or pass --cluster URL (or set CSLR_CLUSTER), or --address http://HEAD:8265`,
  );
}, 60_000);

test("clusterOf and clientProfilePath", () => {
  expect(clusterOf(undefined, {}, undefined)).toBeUndefined();
  expect(clusterOf(undefined, { CSLR_CLUSTER: "http://h:8888" }, undefined)).toBe("http://h:8888");
  expect(clientProfilePath({ HOME: "/home/ada" })).toBe("/home/ada/.config/cslr/client.json");
  expect(clientProfilePath({ HOME: "/home/ada", XDG_CONFIG_HOME: "/cfg" })).toBe("/cfg/cslr/client.json");
});

test.each([
  ["10.0.0.12:6379", "http://10.0.0.5:8888", "10.0.0.12:6379"],
  ["gpu-box.lan:6380", "http://10.0.0.5:8888", "gpu-box.lan:6380"],
  ["ray-cpu:6379", "http://10.0.0.5:8888", "10.0.0.5"],
])("a client reaches head %p of coordinator %p at %p", (head, coordinator, expected) => {
  expect(reachableHeadAddress(head, coordinator)).toBe(expected);
});
