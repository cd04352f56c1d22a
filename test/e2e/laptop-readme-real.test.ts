/**
 * The README's first experiment from a laptop (issue 18, items 4 and 5), on real Ray and real
 * MLflow. Two namespaced hosts of one LAN: a coordinator with its own dockerd running the stack
 * (real Ray, MLflow on PostgreSQL, Redis; host networking, as the several-workstations setup
 * says), and a "laptop": another network namespace with only the compiled cslr, an empty
 * folder, HOME in a fresh temp folder and no Docker, Python or Ray in its environment.
 *
 * Right after the coordinator's `cslr up -d --wait` returns, the laptop runs the README's
 * `cslr join --client URL --token -` (the token on standard input) and then the README's
 * `cslr run -- python train.py` with the README's train.py, ten times in a row: every job
 * SUCCEEDED (exit 0, "sum of squares: 285"), and the project's MLflow experiment holds the
 * runs with the logged parameter, metric and artifact. Both lines and the script are read from
 * README.md, so a README that drifts from what works fails here.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { compiledCslr } from "../helpers/binary.ts";
import { cleanupStale, describeNetns } from "../helpers/netns.ts";
import { describeE2E, realImages, testImages } from "./lib/engine.ts";
import { type Workstation, type Workstations, createWorkstations } from "./lib/hosts.ts";
import { readmeClientJoinArgv, readmeExample, readmeMlflowRun, readmeRunArgv } from "./lib/readme.ts";

const healthPort = 8888;
const mlflowPort = 5000;
const runs = 10;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

describeE2E(
  "e2e: the README's experiment from a laptop's empty folder (real Ray, real MLflow)",
  () => {
    describeNetns("a coordinator with its own dockerd, a laptop namespace with only cslr", () => {
      let group: Workstations;
      let coordinator: Workstation, laptop: Workstation;
      let binary = "";
      const project = `lap${Math.random().toString(36).slice(2, 7)}`;
      const root = mkdtempSync(join(tmpdir(), "cslr-e2e-laptop-"));
      const coordinatorDir = join(root, "coordinator");
      const laptopHome = join(root, "laptop-home");
      const experimentDir = join(laptopHome, "experiment");

      const onCoordinator = async (args: string[], timeoutMs = 300_000) => {
        const result = await coordinator.exec([binary, ...args], {}, { cwd: coordinatorDir, timeoutMs });
        if (result.code !== 0) throw new Error(`cslr ${args.join(" ")} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
        return result;
      };
      /** cslr on the laptop: its own HOME, a bare PATH, no DOCKER_HOST, nothing of this process's environment. */
      const onLaptop = async (args: string[], stdin = "", timeoutMs = 300_000): Promise<Outcome> => {
        const proc = laptop.host.spawn([binary, ...args], {
          cwd: experimentDir,
          env: { HOME: laptopHome, PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8", NO_COLOR: "1" },
          stdin: new Blob([stdin]),
          timeout: timeoutMs,
          killSignal: "SIGKILL",
        });
        const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
        return { code, stdout, stderr };
      };

      /** What the head's container and the election service logged: why a job could not run. */
      const printCoordinatorLogs = async () => {
        const ps = await coordinator.docker(["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
        const logs = await coordinator.exec(
          [binary, "logs", "--tail", "80", "ray-cpu", "health"],
          { NO_COLOR: "1" },
          { cwd: coordinatorDir, timeoutMs: 60_000 },
        );
        console.log(`--- coordinator: containers ---\n${ps.stdout}--- logs (ray-cpu, health) ---\n${logs.stdout}${logs.stderr}--- end ---`);
      };

      beforeAll(async () => {
        await cleanupStale();
        binary = await compiledCslr();
        const stackImages = [testImages.base, testImages.redis, realImages.ray, realImages.mlflow, realImages.postgres];
        group = await createWorkstations({ count: 2, images: (host) => (host === "a" ? stackImages : []) });
        [coordinator, laptop] = group.hosts as [Workstation, Workstation];
        mkdirSync(coordinatorDir, { recursive: true });
        mkdirSync(experimentDir, { recursive: true });
        await onCoordinator(["init", "--quiet"]);
        const config = {
          project: { name: project },
          network: { mode: "host" },
          services: {
            health: { image: testImages.base, port: healthPort, binary, lease_ttl: 10 },
            ray: { cpu: { image: realImages.ray, shm_size: "512m", object_store_memory: "200m" }, gpu: { enabled: false }, workers: 0 },
            redis: { image: testImages.redis },
            mlflow: { image: realImages.mlflow, port: mlflowPort, postgres: { image: realImages.postgres } },
            marimo: { enabled: false },
          },
        };
        writeFileSync(join(coordinatorDir, "config.yaml"), stringify(config));
      }, 900_000);

      afterAll(async () => {
        if (group) {
          await coordinator.exec([binary, "down", "-v", "--timeout", "5"], {}, { cwd: coordinatorDir, timeoutMs: 180_000 });
          await group.destroy();
        }
        rmSync(root, { recursive: true, force: true });
      }, 300_000);

      test(`right after \`cslr up -d --wait\`: the README's join --client, then its \`cslr run\` ${runs} times from an empty folder, every job SUCCEEDED and in the project's MLflow experiment`, async () => {
        // A generous deadline: on a loaded machine Ray's raylet gives its dashboard agent only 15 s
        // to start (ray-project/ray#65983) and the head may take a few restarts to come up.
        const up = await onCoordinator(["up", "-d", "--wait", "--wait-timeout", "900"], 960_000);
        const url = /^\s*cslr join (https:\/\/\S+) --token -\s*$/m.exec(up.stderr)?.[1];
        const joinToken = /^\s*(cslr1\.\S+)\s*$/m.exec(up.stderr)?.[1];
        expect({ url, joinToken }).toEqual({ url: `https://${coordinator.address}:${healthPort}`, joinToken: expect.stringMatching(/^cslr1\./) });

        expect(readdirSync(experimentDir)).toEqual([]);
        const joined = await onLaptop(readmeClientJoinArgv(url!), `${joinToken}\n`, 60_000);
        expect({ code: joined.code, stderr: joined.stderr }).toEqual({ code: 0, stderr: expect.stringContaining(`client of ${project}`) });
        // Nothing but the profile: the folder stays empty until train.py is saved in it.
        expect(readdirSync(experimentDir)).toEqual([]);
        writeFileSync(join(experimentDir, "train.py"), readmeExample());

        const outcomes: { code: number; sum: boolean; tail: string }[] = [];
        for (let i = 0; i < runs; i++) {
          const run = await onLaptop(readmeRunArgv());
          outcomes.push({
            code: run.code,
            sum: run.stdout.includes("sum of squares: 285"),
            tail: run.code === 0 ? "" : `${run.stdout}\n${run.stderr}`.slice(-1500),
          });
        }
        if (outcomes.some((o) => o.code !== 0)) await printCoordinatorLogs();
        expect(outcomes).toEqual(Array.from({ length: runs }, () => ({ code: 0, sum: true, tail: "" })));

        const seen = await readmeMlflowRun(`http://${coordinator.address}:${mlflowPort}`, project);
        expect(seen).toEqual({ param: "10", metric: 285, artifact: "285\n", runs });
      }, 2_400_000);
    });
  },
  { real: true },
);
