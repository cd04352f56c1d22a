/**
 * A lab's week on two namespaced workstations with their own dockerd (stand-in Ray): the
 * election service serves what the config says after every `cslr up` (each input of
 * join-info.json changed in turn), and both the member and the coordinator come back after a
 * restart of their own dockerd (a reboot, as far as Docker is concerned) with no cslr command.
 * Never the machine's main dockerd: each workstation's engine is its own process.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pinnedFetch, pinOfPem } from "../../src/election/tls.ts";
import { parse, stringify } from "yaml";
import { compiledCslr } from "../helpers/binary.ts";
import { cleanupStale, describeNetns } from "../helpers/netns.ts";
import { describeE2E, testImages } from "./lib/engine.ts";
import { type Workstation, type Workstations, createWorkstations } from "./lib/hosts.ts";

const healthPort = 8888;

interface RosterNode {
  node: string;
  host?: string;
  address: string;
  term?: number;
  ready?: boolean;
}
interface Roster {
  head: RosterNode | null;
  term: number;
  workers: RosterNode[];
}

describeE2E("e2e: a lab's week (stand-in Ray)", () => {
  describeNetns("two namespaced workstations with their own dockerd", () => {
    let group: Workstations;
    let a: Workstation, b: Workstation;
    let binary = "";
    const project = `lw${Math.random().toString(36).slice(2, 7)}`;
    const root = mkdtempSync(join(tmpdir(), "cslr-e2e-labweek-"));
    const dirOf = (w: Workstation) => join(root, w.name);
    const baseConfig = (): {
      project: unknown;
      network: unknown;
      host?: unknown;
      services: { health: Record<string, unknown>; ray: { cpu: Record<string, unknown> } & Record<string, unknown>; mlflow: Record<string, unknown> } & Record<
        string,
        unknown
      >;
    } => ({
      project: { name: project },
      network: { mode: "host" },
      services: {
        health: { image: testImages.base, port: healthPort, binary, lease_ttl: 6 },
        ray: { cpu: { image: testImages.ray, shm_size: "64m" }, gpu: { enabled: false }, workers: 0 },
        redis: { enabled: false },
        mlflow: { enabled: false, tracking_uri: "http://mlflow.lab.example:5000", postgres: { enabled: false } },
        marimo: { enabled: false },
      },
    });

    const cslr = (w: Workstation, args: string[], timeoutMs = 180_000, env: Record<string, string> = {}) =>
      w.exec([binary, ...args], env, { cwd: dirOf(w), timeoutMs });
    const ok = async (w: Workstation, args: string[], timeoutMs?: number, env?: Record<string, string>) => {
      const result = await cslr(w, args, timeoutMs, env);
      if (result.code !== 0) throw new Error(`cslr ${args.join(" ")} on ${w.name} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
      return result;
    };
    const token = () => /^CSLR_CLUSTER_TOKEN=(.*)$/m.exec(readFileSync(join(dirOf(a), ".env"), "utf8"))![1]!;
    /** The coordinator's certificate pin: the test talks to it as a member would. */
    const pin = () => pinOfPem(readFileSync(join(dirOf(a), "election-cert.pem"), "utf8"))!;
    const get = async (path: string) => {
      try {
        const response = await pinnedFetch(pin())(`https://${a.address}:${healthPort}${path}`, {
          headers: { authorization: `Bearer ${token()}` },
          signal: AbortSignal.timeout(1500),
        });
        return response.ok ? await response.json() : undefined;
      } catch {
        return undefined;
      }
    };
    const roster = async () => (await get("/v1/cluster")) as Roster | undefined;
    async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await check();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; roster: ${JSON.stringify(await roster())}`);
        await Bun.sleep(250);
      }
    }
    /** The head's own view (stand-in `ray status` in its container): node name → advertised ip. */
    async function rayView(): Promise<Map<string, string>> {
      const nodes = new Map<string, string>();
      for (const w of group.hosts) {
        const ps = await w.docker([
          "ps",
          "--filter",
          `label=com.docker.compose.project=${project}`,
          "--filter",
          "label=com.docker.compose.service=ray-cpu",
          "-q",
        ]);
        const id = ps.stdout.trim().split("\n")[0];
        if (!id) continue;
        const status = await w.docker(["exec", id, "ray", "status"]);
        for (const m of status.stdout.matchAll(/NODE (\S+) (?:head|worker) ([\d.]+):\d+ /g)) nodes.set(m[1]!, m[2]!);
        if (nodes.size > 0) return nodes;
      }
      return nodes;
    }
    /** Both hosts' nodes registered with the head, in Ray's own view, each at its host's address. */
    const bothAlive = async () => {
      const r = await roster();
      if (!r?.head?.ready) return undefined;
      const view = await rayView();
      const addresses = [...view.values()].sort();
      return addresses.length === 2 && addresses.join() === [a.address, b.address].sort().join() ? view : undefined;
    };
    /** When the daemon last started each of this project's containers on `w`. */
    const startedAt = async (w: Workstation) => {
      const ids = (await w.docker(["ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`])).stdout.trim().split("\n").filter(Boolean);
      return (await w.docker(["inspect", "--format", '{{index .Config.Labels "com.docker.compose.service"}}={{.State.StartedAt}}', ...ids])).stdout
        .trim()
        .split("\n")
        .sort();
    };
    const states = async (w: Workstation) =>
      (
        await w.docker([
          "ps",
          "-a",
          "--filter",
          `label=com.docker.compose.project=${project}`,
          "--format",
          '{{.Label "com.docker.compose.service"}}={{.State}}',
        ])
      ).stdout
        .trim()
        .split("\n")
        .sort();

    beforeAll(async () => {
      await cleanupStale();
      binary = await compiledCslr();
      group = await createWorkstations({ count: 2, images: [testImages.base, testImages.ray] });
      [a, b] = group.hosts as [Workstation, Workstation];
      for (const w of group.hosts) mkdirSync(dirOf(w), { recursive: true });
      await ok(a, ["init", "--quiet"]);
      writeFileSync(join(dirOf(a), "config.yaml"), stringify(baseConfig()));
      const up = await ok(a, ["up", "-d", "--wait"], 240_000);
      const joinLine = /^\s*(cslr join https:\/\/\S+ --token -)\s*$/m.exec(up.stderr)?.[1] ?? "";
      expect(joinLine).toBe(`cslr join https://${a.address}:${healthPort} --token -`);
      const joinToken = /^\s*(cslr1\.\S+)\s*$/m.exec(up.stderr)?.[1] ?? "";
      expect(joinToken).toBe(`cslr1.${pin()}.${token()}`);
      // The printed line with its `--token -` dropped: the join token comes from the environment.
      await ok(b, [...joinLine.split(" ").slice(1, -2), "--up"], 240_000, { CSLR_CLUSTER_TOKEN: joinToken });
      await waitFor("both hosts' nodes in Ray's view", 90_000, bothAlive);
    }, 900_000);

    afterAll(async () => {
      if (group) {
        for (const w of group.hosts) if (existsSync(join(dirOf(w), "config.yaml"))) await cslr(w, ["down", "-v", "--timeout", "2"], 120_000);
        await group.destroy();
      }
      rmSync(root, { recursive: true, force: true });
    }, 300_000);

    test("after each change of an input of join-info.json and `cslr up`, /v1/join-info serves the new value", async () => {
      // Another tag of the stand-in image, so a changed image still starts.
      expect((await a.docker(["tag", testImages.ray, "cslr-test/ray:lab-week"])).code).toBe(0);
      type Info = {
        coordinator: { address: string; url: string };
        ray: { cpuImage: string; cpu: { head_port: number } };
        election: { whitelist: string[]; leaseTtl: number };
        mlflow: { trackingUri: string };
      };
      const changes: { what: string; edit: (c: ReturnType<typeof baseConfig>) => void; whitelist?: string[]; seen: (i: Info) => unknown; expected: unknown }[] =
        [
          {
            what: "host.address",
            edit: (c) => (c.host = { address: "10.213.250.7" }),
            seen: (i) => [i.coordinator.address, i.coordinator.url],
            expected: ["10.213.250.7", `https://10.213.250.7:${healthPort}`],
          },
          {
            what: "images",
            edit: (c) => (c.services.ray.cpu.image = "cslr-test/ray:lab-week"),
            seen: (i) => i.ray.cpuImage,
            expected: "cslr-test/ray:lab-week",
          },
          { what: "ports", edit: (c) => Object.assign(c.services.ray.cpu, { head_port: 6390 }), seen: (i) => i.ray.cpu.head_port, expected: 6390 },
          { what: "whitelist", edit: () => {}, whitelist: ["ray-cpu"], seen: (i) => i.election.whitelist, expected: ["ray-cpu"] },
          { what: "TTL", edit: (c) => (c.services.health.lease_ttl = 9), seen: (i) => i.election.leaseTtl, expected: 9 },
          {
            what: "MLflow URI",
            edit: (c) => (c.services.mlflow.tracking_uri = "http://mlflow2.lab.example:5000"),
            seen: (i) => i.mlflow.trackingUri,
            expected: "http://mlflow2.lab.example:5000",
          },
        ];
      const nodesFile = join(dirOf(a), "nodes.yaml");
      const originalNodes = readFileSync(nodesFile, "utf8");
      const seen: Record<string, unknown> = {};
      try {
        for (const change of changes) {
          const config = baseConfig();
          change.edit(config);
          writeFileSync(join(dirOf(a), "config.yaml"), stringify(config));
          writeFileSync(nodesFile, change.whitelist ? stringify({ ...parse(originalNodes), head_whitelist: change.whitelist }) : originalNodes);
          // Only the election service: the point is what it serves, not the nodes' convergence.
          await ok(a, ["up", "-d", "health"], 180_000);
          const info = await waitFor(`/v1/join-info after changing ${change.what}`, 60_000, async () => (await get("/v1/join-info")) as Info | undefined);
          seen[change.what] = change.seen(info);
        }
      } finally {
        writeFileSync(join(dirOf(a), "config.yaml"), stringify(baseConfig()));
        writeFileSync(nodesFile, originalNodes);
        await ok(a, ["up", "-d", "--wait"], 240_000);
      }
      expect(seen).toEqual(Object.fromEntries(changes.map((c) => [c.what, c.expected])));
    }, 900_000);

    test("a member's dockerd restarts: its Ray node is ALIVE again in Ray's view with no cslr command", async () => {
      await waitFor("both hosts' nodes in Ray's view", 90_000, bothAlive);
      const before = await startedAt(b);
      await b.restartEngine();
      // The daemon itself started the container again (no cslr, no docker start)…
      await waitFor("b's ray-cpu running again", 120_000, async () => ((await states(b)).join() === "ray-cpu=running" ? true : undefined));
      const after = await startedAt(b);
      expect(after).toHaveLength(1);
      expect(after[0]).not.toBe(before[0]);
      // …and its node is back in the head's own view at b's address.
      const view = await waitFor("b's node back after its dockerd restarted", 180_000, bothAlive);
      expect([...view.values()]).toContain(b.address);
    }, 600_000);

    test("the coordinator's dockerd restarts: the election service and its Ray node come back, the cluster forms again", async () => {
      await waitFor("both hosts' nodes in Ray's view", 90_000, bothAlive);
      const before = await startedAt(a);
      await a.restartEngine();
      await waitFor("the coordinator's services running again", 120_000, async () =>
        (await states(a)).join() === "health=running,ray-cpu=running" ? true : undefined,
      );
      const after = await startedAt(a);
      expect(after.map((line, i) => line !== before[i])).toEqual([true, true]);
      const view = await waitFor("the coordinator's services and both nodes back", 240_000, bothAlive);
      expect(new Set(view.values())).toEqual(new Set([a.address, b.address]));
    }, 600_000);
  });
});
