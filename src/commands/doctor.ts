import { defineCommand } from "citty";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parse } from "yaml";
import { commonArgs } from "../args.ts";
import { psArgs } from "../compose/argv.ts";
import { detectCompose, engineFailureLine, installHint } from "../compose/detect.ts";
import { parsePs } from "../compose/ps.ts";
import { portConfigKeys, publishedPorts, withConfigKeys, type PublishedPort } from "../compose/published.ts";
import { Compose, probeProgram } from "../compose/runner.ts";
import type { Model } from "../config/model.ts";
import { CslrError, ExitCode } from "../errors.ts";
import { detectGpu } from "../host/gpu.ts";
import { busyPorts } from "../host/ports.ts";
import { setLogLevel } from "../log.ts";
import { loadProject } from "../project.ts";
import { dotEnvNames, failureSummary, hasNvidiaRuntime, renderChecks, requiredEnvVars, type CheckResult } from "../status/checks.ts";

export default defineCommand({
  meta: { name: "doctor", description: "Check Docker, Compose, GPU runtime, config, secrets and ports; print the fix for each failure" },
  args: commonArgs,
  async run({ args }) {
    setLogLevel(args);
    const results: CheckResult[] = [];
    const add = (r: CheckResult) => {
      results.push(r);
      return r.status !== "fail";
    };

    const engine = Bun.which("docker") ? "docker" : Bun.which("podman") ? "podman" : undefined;
    add(
      engine
        ? { name: "container CLI", status: "ok", detail: `${engine} at ${Bun.which(engine)}` }
        : { name: "container CLI", status: "fail", detail: "neither docker nor podman is on PATH", fix: "install Docker: https://docs.docker.com/engine/install/" },
    );

    let engineUp = false;
    if (engine) {
      const info = await probeProgram([engine, "info", "--format", "{{.ServerVersion}}"]);
      engineUp = !!info && info.code === 0;
      add(
        engineUp
          ? { name: "engine reachable", status: "ok", detail: `server version ${info!.stdout.trim()}` }
          : {
              name: "engine reachable",
              status: "fail",
              detail: `${engine} info failed: ${engineFailureLine(info?.stderr ?? "")}`,
              fix: engine === "podman" ? "systemctl --user start podman.socket" : "sudo systemctl start docker",
            },
      );
    }

    let compose: Awaited<ReturnType<typeof detectCompose>> | undefined;
    try {
      compose = await detectCompose((argv) => probeProgram(argv));
      add({ name: "Compose v2", status: "ok", detail: `${compose.kind} ${compose.version}` });
    } catch (error) {
      add({ name: "Compose v2", status: "fail", detail: (error as Error).message.split(":")[0]!, fix: installHint });
    }

    if (await detectGpu()) {
      const runtimes = engineUp && engine ? await probeProgram([engine, "info", "--format", "{{json .Runtimes}}"]) : null;
      add(
        runtimes && runtimes.code === 0 && hasNvidiaRuntime(runtimes.stdout)
          ? { name: "NVIDIA runtime", status: "ok", detail: "GPU present and the nvidia runtime is registered" }
          : {
              name: "NVIDIA runtime",
              status: "fail",
              detail: engineUp ? "a GPU is present but Docker has no nvidia runtime" : "a GPU is present; cannot ask the engine",
              fix: "install nvidia-container-toolkit, then: sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker",
            },
      );
    } else add({ name: "NVIDIA runtime", status: "skip", detail: "no GPU listed by nvidia-smi" });

    const paths = { config: args.config, nodes: args.nodes, out: args.out };
    let model: Model | undefined;
    try {
      model = (await loadProject(paths)).model;
      add({ name: "config", status: "ok", detail: `${resolve(args.config)} and ${resolve(args.nodes)} are valid` });
    } catch (error) {
      add({ name: "config", status: "fail", detail: (error as Error).message.split("\n")[0]!, fix: "correct the fields named above (`cslr schema` prints the schema)" });
    }

    const composeFile = resolve(args.out, "compose.yaml");
    const composeText = existsSync(composeFile) ? await Bun.file(composeFile).text() : undefined;
    results.push(await checkSecrets(composeText, join(dirname(resolve(args.config)), ".env")));

    const ports = portsToCheck(composeText, model);
    if (ports) results.push(await checkPorts(ports, composeText, compose && engineUp ? { compose, composeFile, model } : undefined));
    else add({ name: "host ports", status: "skip", detail: "no config or generated compose file to read ports from" });

    if (model) results.push(await checkRemoteHealth(model));

    process.stdout.write(renderChecks(results));
    const failed = failureSummary(results);
    if (failed) throw new CslrError(failed);
    process.stdout.write("All checks passed.\n");
    return ExitCode.ok;
  },
});

async function checkSecrets(composeText: string | undefined, envFile: string): Promise<CheckResult> {
  const name = ".env secrets";
  if (composeText === undefined) return { name, status: "skip", detail: "no generated compose file yet (run `cslr generate`)" };
  const needed = requiredEnvVars(composeText);
  if (needed.length === 0) return { name, status: "ok", detail: "the compose file needs no variables" };
  const present = existsSync(envFile) ? dotEnvNames(await Bun.file(envFile).text()) : new Set<string>();
  const missing = needed.filter((n) => !present.has(n) && !process.env[n]);
  return missing.length === 0
    ? { name, status: "ok", detail: `${needed.join(", ")} set in ${envFile}` }
    : { name, status: "fail", detail: `missing in ${envFile}: ${missing.join(", ")}`, fix: `add ${missing.map((m) => `${m}=...`).join(" ")} to ${envFile} (\`cslr init\` writes generated secrets)` };
}

function portsToCheck(composeText: string | undefined, model: Model | undefined): PublishedPort[] | undefined {
  const keys = model ? portConfigKeys(model.config, model.gpu.enabled) : new Map<number, string>();
  if (composeText !== undefined) return withConfigKeys(publishedPorts(parse(composeText)), keys);
  if (model) return [...keys].map(([port, key]) => ({ service: key.split(".")[1]!, port, key }));
  return undefined;
}

async function checkPorts(
  ports: PublishedPort[],
  composeText: string | undefined,
  running: { compose: Awaited<ReturnType<typeof detectCompose>>; composeFile: string; model?: Model } | undefined,
): Promise<CheckResult> {
  const name = "host ports";
  // Ports held by this project's own running containers are in use by design.
  let own = new Set<string>();
  if (running && composeText !== undefined) {
    const doc = parse(composeText) as { name?: string };
    const projectName = doc.name ?? running.model?.project.name;
    if (projectName) {
      const c = new Compose(running.compose, { composeFile: running.composeFile, projectName, projectDir: dirname(running.composeFile) });
      const ps = await c.capture(psArgs({ json: true }));
      if (ps.code === 0) own = new Set(parsePs(ps.stdout).filter((r) => r.state === "running").map((r) => r.service));
    }
  }
  const busy = await busyPorts(ports.filter((p) => !own.has(p.service)));
  if (busy.length === 0) return { name, status: "ok", detail: `${ports.map((p) => p.port).join(", ")} free${own.size ? " (or held by this stack)" : ""}` };
  return {
    name,
    status: "fail",
    detail: busy.map((p) => `${p.port} (${p.service}) in use`).join(", "),
    fix: busy.map((p) => `stop what holds ${p.port} or change ${p.key ?? "its port"} in config.yaml`).join("; "),
  };
}

async function checkRemoteHealth(model: Model): Promise<CheckResult> {
  const name = "health service";
  if (model.config.services.health.enabled) return { name, status: "skip", detail: "runs in this stack (checked by `cslr up --wait`)" };
  const url = `${model.election.url.replace(/\/+$/, "")}/healthz`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return response.ok
      ? { name, status: "ok", detail: `${url} answered ${response.status}` }
      : { name, status: "fail", detail: `${url} answered HTTP ${response.status}`, fix: "check the health service on its host (`cslr status` there)" };
  } catch (error) {
    return { name, status: "fail", detail: `${url} unreachable: ${(error as Error).message}`, fix: "start the health service on its host, or fix health_service.url in nodes.yaml" };
  }
}
