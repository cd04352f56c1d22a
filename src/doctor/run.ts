/**
 * `cslr doctor`: every check in the order a user should fix things, each a small function
 * run under `runCheck` (a check that throws is a failed check, never a crash). Later checks
 * read what earlier ones found from the context.
 */
import { existsSync, readFileSync } from "node:fs";
import { runCheck, type Check } from "../checks.ts";
import { detectCompose, engineFailureLine, installHint } from "../compose/detect.ts";
import { busyConfiguredPorts, busyPublishedPorts, runningServices } from "../compose/ports.ts";
import type { PublishedPort } from "../compose/published.ts";
import { Compose, probeProgram } from "../compose/runner.ts";
import { composeTarget, readComposeFile } from "../compose/target.ts";
import { runningComposeFile } from "../stack/generation.ts";
import type { ComposeTool } from "../compose/argv.ts";
import { displayPath, loadProject, type ProjectPaths } from "../config/load.ts";
import type { Model } from "../config/model.ts";
import { detectGpu } from "../host/gpu.ts";
import { dotEnvNames, hasNvidiaRuntime, rayExposure, requiredEnvVars } from "./checks.ts";
import { engineOf, listDockerNetworks, subnetConflicts } from "../compose/networks.ts";
import { testProjectName } from "../render/cluster-test.ts";
import { missingSecrets } from "../render/generate.ts";
import { electionAccess } from "../election/access.ts";
import { log } from "../log.ts";
import { engineImageProbe, imagesCheck, imagesOf, type ImageProbe } from "./images.ts";

export interface DoctorOptions {
  /** Where each image is (injected by tests: no registry is asked). */
  images?: ImageProbe;
}

interface DoctorContext {
  paths: ProjectPaths;
  options: DoctorOptions;
  engine?: "docker" | "podman";
  engineUp: boolean;
  compose?: ComposeTool;
  model?: Model;
}

type DoctorCheck = { id: string; name: string; check: (ctx: DoctorContext) => Promise<Check> | Check };

const ok = (id: string, name: string, detail?: string): Check => ({ id, name, status: "ok", detail });
const fail = (id: string, name: string, detail: string, fix?: string): Check => ({ id, name, status: "fail", detail, fix });
const skip = (id: string, name: string, detail: string): Check => ({ id, name, status: "skip", detail });
const warn = (id: string, name: string, detail: string, fix: string): Check => ({ id, name, status: "warn", detail, fix });

const checks: DoctorCheck[] = [
  {
    id: "cli",
    name: "container CLI",
    check(ctx) {
      ctx.engine = Bun.which("docker") ? "docker" : Bun.which("podman") ? "podman" : undefined;
      return ctx.engine
        ? ok("cli", "container CLI", `${ctx.engine} at ${Bun.which(ctx.engine)}`)
        : fail("cli", "container CLI", "neither docker nor podman is on PATH", "install Docker: https://docs.docker.com/engine/install/");
    },
  },
  {
    id: "engine",
    name: "engine reachable",
    async check(ctx) {
      if (!ctx.engine) return skip("engine", "engine reachable", "no container CLI");
      const info = await probeProgram([ctx.engine, "info", "--format", "{{.ServerVersion}}"]);
      ctx.engineUp = !!info && info.code === 0;
      if (ctx.engineUp) return ok("engine", "engine reachable", `server version ${info!.stdout.trim()}`);
      const fix = ctx.engine === "podman" ? "systemctl --user start podman.socket" : "sudo systemctl start docker";
      return fail("engine", "engine reachable", `${ctx.engine} info failed: ${engineFailureLine(info?.stderr ?? "")}`, fix);
    },
  },
  {
    id: "compose",
    name: "Compose v2",
    async check(ctx) {
      try {
        ctx.compose = await detectCompose((argv) => probeProgram(argv));
        return ok("compose", "Compose v2", `${ctx.compose.kind} ${ctx.compose.version}`);
      } catch (error) {
        return fail("compose", "Compose v2", (error as Error).message.split(":")[0]!, installHint);
      }
    },
  },
  {
    id: "gpu",
    name: "NVIDIA runtime",
    async check(ctx) {
      if (!(await detectGpu())) return skip("gpu", "NVIDIA runtime", "no GPU listed by nvidia-smi");
      const runtimes = ctx.engineUp && ctx.engine ? await probeProgram([ctx.engine, "info", "--format", "{{json .Runtimes}}"]) : null;
      if (runtimes && runtimes.code === 0 && hasNvidiaRuntime(runtimes.stdout)) {
        return ok("gpu", "NVIDIA runtime", "GPU present and the nvidia runtime is registered");
      }
      return fail(
        "gpu",
        "NVIDIA runtime",
        ctx.engineUp ? "a GPU is present but Docker has no nvidia runtime" : "a GPU is present; cannot ask the engine",
        "install nvidia-container-toolkit, then: sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker",
      );
    },
  },
  {
    id: "config",
    name: "config",
    async check(ctx) {
      const { config, nodes, explicit } = ctx.paths;
      // A file the user did not name and that is not there is replaced by the embedded example:
      // said as it is, never called valid.
      const absent = [config, nodes].filter((file, i) => !(i === 0 ? explicit.config : explicit.nodes) && !existsSync(file));
      try {
        ctx.model = await quietly(() => loadProject(ctx.paths));
      } catch (error) {
        return fail("config", "config", (error as Error).message.split("\n")[0]!, "correct the fields named above (`cslr schema` prints the schema)");
      }
      const present = [config, nodes].filter((file) => !absent.includes(file)).map(displayPath);
      const valid = present.length > 0 ? `${present.join(" and ")} ${present.length === 1 ? "is" : "are"} valid` : "";
      if (absent.length > 0) {
        const missing = `${absent.map(displayPath).join(" and ")} ${absent.length === 1 ? "is" : "are"} missing: \`cslr generate\` and \`cslr up\` would use the embedded example${absent.length === 1 ? "" : "s"}`;
        return warn("config", "config", [valid, missing].filter(Boolean).join("; "), "`cslr init` writes them here, to edit (or pass --config)");
      }
      if (ctx.model.warnings.length > 0) return warn("config", "config", `${valid}, with warnings: ${ctx.model.warnings.join("; ")}`, "see the warnings");
      return ok("config", "config", valid);
    },
  },
  {
    id: "secrets",
    name: ".env secrets",
    check(ctx) {
      const name = ".env secrets";
      const { composeFile, envFile } = ctx.paths;
      // What `up` would need (the config's services), and what the generated file needs now.
      const fromModel = ctx.model ? missingSecrets(ctx.model, envFile) : [];
      const present = existsSync(envFile) ? dotEnvNames(readFileSync(envFile, "utf8")) : new Set<string>();
      const fromFile = existsSync(composeFile) ? requiredEnvVars(readFileSync(composeFile, "utf8")).filter((n) => !present.has(n) && !process.env[n]) : [];
      if (!ctx.model && !existsSync(composeFile)) return skip("secrets", name, "no valid config and no generated compose file");
      const missing = [...new Set([...fromModel, ...fromFile.filter((n) => !fromModel.some((m) => m.startsWith(`${n} `)))])];
      if (missing.length === 0) return ok("secrets", name, `every secret the stack needs is set in ${envFile}`);
      const where = existsSync(envFile) ? `missing in ${envFile}` : `no ${envFile}; missing`;
      return fail("secrets", name, `${where}: ${missing.join(", ")}`, "`cslr init` writes the missing secrets (it keeps the others)");
    },
  },
  {
    id: "images",
    name: "images",
    async check(ctx) {
      if (!ctx.model) return skip("images", "images", "no valid config");
      if (!ctx.engineUp || !ctx.engine) return skip("images", "images", "cannot ask the engine");
      const images = imagesOf(ctx.model);
      const probe = ctx.options.images ?? engineImageProbe(ctx.engine);
      return imagesCheck(images, await Promise.all(images.map((use) => probe(use.image))));
    },
  },
  {
    id: "ray-exposure",
    name: "Ray dashboard and Jobs API",
    check(ctx) {
      const name = "Ray dashboard and Jobs API";
      if (!ctx.model) return skip("ray-exposure", name, "no valid config");
      const exposure = rayExposure(ctx.model);
      if (exposure) return warn("ray-exposure", name, exposure.detail, exposure.fix);
      const why =
        ctx.model.config.services.ray.auth === "token"
          ? "Ray's token authentication is on (services.ray.auth: token)"
          : `published on ${ctx.model.network.bindAddress} only`;
      return ok("ray-exposure", name, why);
    },
  },
  {
    id: "gcs",
    name: "head changes (GCS)",
    check(ctx) {
      const name = "head changes (GCS)";
      if (!ctx.model) return skip("gcs", name, "no valid config");
      const gcs = ctx.model.gcs;
      if (gcs) return ok("gcs", name, `heads keep Ray's state in Redis ${gcs.redis} (namespace ${gcs.namespace}): a new head takes the cluster over`);
      return warn(
        "gcs",
        name,
        "services.ray.gcs_store is memory: a new head starts a new Ray cluster (running jobs, actors and the job list are lost)",
        "services.redis.enabled: true and gcs_store: redis on the coordinator (a member: cslr join again)",
      );
    },
  },
  { id: "subnets", name: "subnets", check: checkSubnets },
  { id: "ports", name: "host ports", check: checkPorts },
  {
    id: "health",
    name: "health service",
    async check(ctx) {
      const model = ctx.model;
      if (!model) return skip("health", "health service", "no valid config to read its address from");
      if (model.config.services.health.enabled) return skip("health", "health service", "runs in this stack (checked by `cslr up --wait`)");
      const url = `${model.election.url.replace(/\/+$/, "")}/healthz`;
      try {
        // Pinned like every client: a service without the cluster's certificate is not the health service.
        const response = await electionAccess(model, ctx.paths, model.election.url).fetch(url, { signal: AbortSignal.timeout(3000) });
        await response.body?.cancel();
        return response.ok
          ? ok("health", "health service", `${url} answered ${response.status}`)
          : fail("health", "health service", `${url} answered HTTP ${response.status}`, "check the health service on its host (`cslr status` there)");
      } catch (error) {
        return fail(
          "health",
          "health service",
          `${url} unreachable: ${(error as Error).message}`,
          "start the health service on its host, or fix health_service.url in nodes.yaml",
        );
      }
    },
  },
];

/** Explicit subnets against the engine's networks (the ones Docker picks cannot collide). */
async function checkSubnets(ctx: DoctorContext): Promise<Check> {
  const name = "subnets";
  const model = ctx.model;
  if (!model) return skip("subnets", name, "no valid config");
  const { subnet } = model.network;
  const testSubnet = model.clusterTest.subnet;
  if (!subnet && !testSubnet) return ok("subnets", name, "none configured: Docker picks free ones");
  if (!ctx.engineUp || !ctx.compose) return skip("subnets", name, "cannot ask the engine for its networks");
  const networks = await listDockerNetworks(engineOf(ctx.compose));
  // The cluster test is a compose project of its own: its network is no conflict either.
  const problems = [
    ...(subnet ? subnetConflicts([{ network: "ray-network", subnet, path: ["network", "subnet"] }], model.project.name, networks) : []),
    ...(testSubnet
      ? subnetConflicts([{ network: "cluster-test", subnet: testSubnet, path: ["cluster_test", "subnet"] }], testProjectName(model), networks)
      : []),
  ];
  const wanted = [subnet, testSubnet].filter(Boolean).join(", ");
  if (problems.length === 0) return ok("subnets", name, `${wanted} free`);
  const detail = problems.map((p) => `${p.path.join(".")} ${p.message.split(", and Docker")[0]}`).join("; ");
  const fix = problems.map((p) => `for ${p.path.join(".")}: ${p.message.split("; expected ")[1]}`).join("; ");
  return fail("subnets", name, detail, fix);
}

/**
 * Ports held by something else. With a generated compose file and an engine, this stack's own
 * running containers hold their ports by design: asked through the same session `up` uses.
 */
async function checkPorts(ctx: DoctorContext): Promise<Check> {
  const name = "host ports";
  let busy: PublishedPort[];
  let checked: string;
  const file = runningComposeFile(ctx.paths);
  if (existsSync(file)) {
    const { doc, projectName } = readComposeFile(file);
    const canAsk = ctx.compose && ctx.engineUp;
    const running = canAsk ? await runningServices(new Compose(ctx.compose!, composeTarget(ctx.paths, projectName, file))) : new Set<string>();
    busy = await busyPublishedPorts(doc, running, ctx.model);
    checked = canAsk ? "published ports free (or held by this stack)" : "published ports free";
  } else if (ctx.model) {
    busy = await busyConfiguredPorts(ctx.model);
    checked = "configured ports free";
  } else {
    return skip("ports", name, "no config or generated compose file to read ports from");
  }
  if (busy.length === 0) return ok("ports", name, checked);
  return fail(
    "ports",
    name,
    busy.map((p) => `${p.port} (${p.service}) in use`).join(", "),
    busy.map((p) => `stop what holds ${p.port} or change ${p.key ?? "its port"} in config.yaml`).join("; "),
  );
}

/** Runs `load` with cslr's own log quiet: doctor reports what loading says as checks instead. */
async function quietly<T>(load: () => Promise<T>): Promise<T> {
  const level = log.level;
  log.level = 0;
  try {
    return await load();
  } finally {
    log.level = level;
  }
}

export async function runDoctor(paths: ProjectPaths, options: DoctorOptions = {}): Promise<Check[]> {
  const ctx: DoctorContext = { paths, options, engineUp: false };
  const results: Check[] = [];
  for (const { id, name, check } of checks) results.push(await runCheck(id, name, () => check(ctx)));
  return results;
}
