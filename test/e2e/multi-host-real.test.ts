/**
 * Several workstations with real Ray (issue 13, point 3): two simulated workstations (network
 * namespaces with their own dockerd), the coordinator and a member that joined with the
 * printed line. Real Ray's GCS dials every node back at its advertised address, so this fails
 * if a node advertises anything but its host's address: every node alive in `ray status` and
 * `ray.nodes()` at its host's address, a job submitted with `cslr run` from the coordinator
 * whose tasks run on both hosts' nodes.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { pinnedFetch, pinOfPem } from "../../src/election/tls.ts";
import { compiledCslr } from "../helpers/binary.ts";
import { cleanupStale, describeNetns } from "../helpers/netns.ts";
import { describeE2E, realImages, testImages } from "./lib/engine.ts";
import { type Workstation, type Workstations, createWorkstations } from "./lib/hosts.ts";

const healthPort = 8888;

interface Roster {
  head: { node: string; host?: string; ready?: boolean; term: number } | null;
  workers: { node: string; host?: string; term?: number }[];
}

describeE2E(
  "e2e: two workstations, one cluster (real Ray)",
  () => {
    describeNetns("two namespaced workstations with their own dockerd", () => {
      let group: Workstations;
      let a: Workstation, b: Workstation;
      let binary = "";
      const project = `mhr${Math.random().toString(36).slice(2, 7)}`;
      const root = mkdtempSync(join(tmpdir(), "cslr-e2e-multihost-real-"));
      const dirOf = (w: Workstation) => join(root, w.name);
      const cslr = (w: Workstation, args: string[], timeoutMs = 300_000, cwd = dirOf(w), env: Record<string, string> = {}) =>
        w.exec([binary, ...args], env, { cwd, timeoutMs });
      const ok = async (w: Workstation, args: string[], timeoutMs?: number, cwd?: string, env?: Record<string, string>) => {
        const result = await cslr(w, args, timeoutMs, cwd, env);
        if (result.code !== 0) throw new Error(`cslr ${args.join(" ")} on ${w.name} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
        return result;
      };
      const secret = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(readFileSync(join(dirOf(a), ".env"), "utf8"))?.[1] ?? "";
      const byHost = (host: string | undefined) => group.hosts.find((w) => w.hostname.split(".")[0] === host)!;

      async function roster(): Promise<Roster | undefined> {
        try {
          const pin = pinOfPem(readFileSync(join(dirOf(a), "election-cert.pem"), "utf8"))!;
          const response = await pinnedFetch(pin)(`https://${a.address}:${healthPort}/v1/cluster`, {
            headers: { authorization: `Bearer ${secret("CSLR_CLUSTER_TOKEN")}` },
            signal: AbortSignal.timeout(1500),
          });
          return response.ok ? ((await response.json()) as Roster) : undefined;
        } catch {
          return undefined;
        }
      }
      async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const value = await check();
          if (value !== undefined) return value;
          if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; roster: ${JSON.stringify(await roster())}`);
          await Bun.sleep(500);
        }
      }
      /** Python in the head's Ray container, with the cluster's Ray token (Ray's own CLI and SDK need it). */
      async function headPython(code: string) {
        const r = (await roster())!;
        const w = byHost(r.head!.host);
        const ps = await w.docker([
          "ps",
          "-q",
          "--filter",
          `label=com.docker.compose.project=${project}`,
          "--filter",
          "label=com.docker.compose.service=ray-cpu",
        ]);
        const token = secret("RAY_AUTH_TOKEN");
        return w.docker(["exec", "-e", "RAY_AUTH_MODE=token", "-e", `RAY_AUTH_TOKEN=${token}`, ps.stdout.trim(), "python", "-c", code], { timeoutMs: 120_000 });
      }

      beforeAll(async () => {
        await cleanupStale();
        binary = await compiledCslr();
        group = await createWorkstations({ count: 2, images: [testImages.base, realImages.ray] });
        [a, b] = group.hosts as [Workstation, Workstation];
        for (const w of group.hosts) mkdirSync(dirOf(w), { recursive: true });
      }, 900_000);

      afterAll(async () => {
        if (group) {
          await Promise.all(group.hosts.map((w) => cslr(w, ["down", "-v", "--timeout", "5"], 180_000)));
          await group.destroy();
        }
        rmSync(root, { recursive: true, force: true });
      }, 300_000);

      test("the coordinator and a member that joined with the printed line: both nodes alive in Ray at their hosts' addresses", async () => {
        await ok(a, ["init", "--quiet"]);
        const sizing = { cpus: 1, shm_size: "512m", object_store_memory: "200m" };
        const config = {
          project: { name: project },
          network: { mode: "host" },
          services: {
            health: { image: testImages.base, port: healthPort, binary, lease_ttl: 10 },
            ray: { cpu: { image: realImages.ray, ...sizing }, gpu: { enabled: false }, workers: 0 },
            redis: { enabled: false },
            mlflow: { enabled: false, postgres: { enabled: false } },
            marimo: { enabled: false },
          },
        };
        writeFileSync(join(dirOf(a), "config.yaml"), stringify(config));
        const up = await ok(a, ["up", "-d", "--wait"], 400_000);
        // The printed line reads the token from standard input; here it goes in the environment.
        const line = /^\s*cslr (join https:\/\/\S+) --token -\s*$/m.exec(up.stderr)?.[1];
        const joinToken = /^\s*(cslr1\.\S+)\s*$/m.exec(up.stderr)?.[1];
        expect(line).toBeDefined();
        expect(joinToken).toBeDefined();
        await ok(b, [...line!.split(" "), "--up"], 400_000, undefined, { CSLR_CLUSTER_TOKEN: joinToken! });

        const formed = await waitFor("both nodes on the roster", 120_000, async () => {
          const r = await roster();
          return r?.head?.ready && r.workers.filter((w) => w.term === r.head!.term).length === 1 ? r : undefined;
        });
        const expected = [formed.head!, ...formed.workers.filter((w) => w.term === formed.head!.term)].map((n) => byHost(n.host).address).sort();
        expect(expected).toEqual([a.address, b.address].sort());

        const alive = await waitFor("two alive nodes in ray.nodes()", 180_000, async () => {
          const result = await headPython(
            "import json, ray; ray.init(address='auto', logging_level='ERROR'); print('NODES', json.dumps(sorted(n['NodeManagerAddress'] for n in ray.nodes() if n['Alive'])))",
          );
          const nodes = /^NODES (.*)$/m.exec(result.stdout)?.[1];
          const list = nodes ? (JSON.parse(nodes) as string[]) : [];
          return list.length === 2 ? list : undefined;
        });
        expect(alive).toEqual([a.address, b.address].sort());
      }, 900_000);

      test("cslr run from the coordinator: the job's Ray tasks run on both hosts' nodes", async () => {
        const dir = join(dirOf(a), "exp");
        mkdirSync(dir, { recursive: true });
        writeFileSync(
          join(dir, "where.py"),
          `import time, ray
ray.init()
@ray.remote(num_cpus=1, scheduling_strategy="SPREAD")
def where():
    time.sleep(1)
    return ray.util.get_node_ip_address()
print("HOSTS", sorted(set(ray.get([where.remote() for _ in range(4)]))), flush=True)
`,
        );
        const run = await ok(a, ["run", "--", "python", "where.py"], 300_000, dir);
        expect(/^HOSTS (.*)$/m.exec(run.stdout)?.[1]).toBe(
          `[${[a.address, b.address]
            .sort()
            .map((x) => `'${x}'`)
            .join(", ")}]`,
        );
      }, 400_000);
    });
  },
  { real: true },
);
