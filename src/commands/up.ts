import { defineCommand } from "citty";
import { upArgs, psArgs, logsArgs } from "../compose/argv.ts";
import { composeArgs } from "../compose/args.ts";
import { parsePs } from "../compose/ps.ts";
import { portConfigKeys, portConflictMessage, publishedPorts, withConfigKeys } from "../compose/published.ts";
import type { Compose } from "../compose/runner.ts";
import { openSession } from "../compose/session.ts";
import type { Model } from "../config/model.ts";
import { CslrError, ExitCode } from "../errors.ts";
import { detectHostAddress } from "../host/address.ts";
import { busyPorts } from "../host/ports.ts";
import { setLogLevel } from "../log.ts";
import { describePhase } from "../status/phase.ts";
import { fetchRoster, localHealthUrl } from "../status/roster.ts";
import { endpoints } from "../status/view.ts";
import { culpritService, parseWaitSeconds, progressPrinter, waitExpectation, waitForCluster } from "../status/wait.ts";

export default defineCommand({
  meta: { name: "up", description: "Generate _build/ and start the stack (docker compose up)" },
  args: {
    ...composeArgs,
    service: { type: "positional", required: false, description: "Services to start (default: all of them)", valueHint: "SERVICE..." },
    detach: { type: "boolean", alias: "d", description: "Run in the background" },
    build: { type: "boolean", description: "Build images before starting" },
    wait: {
      type: "boolean",
      description: "Wait until the cluster is ready (implies -d); --wait=SECONDS sets the deadline (default 300)",
    },
    generate: {
      type: "boolean",
      default: true,
      description: "Regenerate _build/ from the config first; --no-generate uses it as it is",
    },
  },
  async run({ args, rawArgs }) {
    setLogLevel(args);
    const waitSeconds = parseWaitSeconds(rawArgs);
    const services = args._.map(String);
    const { project, compose } = await openSession(args, {
      generate: args.generate !== false,
      model: args.generate === false ? "optional" : undefined,
    });
    const allServices = Object.keys((project.composeDoc as { services?: object } | null)?.services ?? {});
    const unknown = services.filter((s) => !allServices.includes(s));
    if (unknown.length > 0) {
      throw new CslrError(`no service ${unknown.join(", ")} in ${project.target.composeFile}; expected one of: ${allServices.join(", ")}`, ExitCode.usage);
    }
    const starting = services.length > 0 ? services : allServices;
    if (!args["dry-run"]) await checkPortsFree(compose, project.composeDoc, starting, project.model);

    const detach = args.detach || waitSeconds !== undefined;
    await compose.run(upArgs({ detach, build: args.build, services }));
    if (waitSeconds === undefined || args["dry-run"]) return ExitCode.ok;
    return waitUntilReady(compose, starting, project.model, waitSeconds);
  },
});

/**
 * Fails before compose runs when a port to publish is taken, naming the config key to change.
 * Services of this project that already run hold their own ports: not a conflict.
 */
async function checkPortsFree(compose: Compose, composeDoc: unknown, services: string[], model: Model | undefined) {
  await compose.ensureEngine();
  const running = new Set(
    parsePs(await compose.captureOk(psArgs({ json: true })))
      .filter((r) => r.state === "running" || r.state === "restarting")
      .map((r) => r.service),
  );
  const toCheck = publishedPorts(composeDoc, services).filter((p) => !running.has(p.service));
  const keys = model ? portConfigKeys(model.config, model.gpu.enabled) : new Map<number, string>();
  const busy = await busyPorts(withConfigKeys(toCheck, keys));
  if (busy.length > 0) throw new CslrError(portConflictMessage(busy));
}

async function waitUntilReady(compose: Compose, services: string[], model: Model | undefined, seconds: number): Promise<number> {
  const expect = waitExpectation(services, model);
  const rosterUrl = model
    ? model.config.services.health.enabled
      ? localHealthUrl(model.config.services.health.port)
      : model.election.url
    : undefined;
  const printer = progressPrinter(process.stderr);
  const { phase, timedOut } = await waitForCluster(expect, seconds, {
    ps: async () => parsePs(await compose.captureOk(psArgs({ json: true, all: true }))),
    roster: () => (rosterUrl ? fetchRoster(rosterUrl) : Promise.resolve({ error: "no election service configured" })),
    now: () => Date.now(),
    sleep: (ms) => Bun.sleep(ms),
    progress: (_phase, text) => printer.show(text),
  });
  printer.done();
  if (phase.kind === "ready") {
    if (model) await printAddresses(model, rosterUrl);
    return ExitCode.ok;
  }
  const why = timedOut ? `not ready after ${seconds}s: ${describePhase(phase)}` : describePhase(phase);
  const culprit = culpritService(phase, expect, model);
  if (culprit) {
    const logs = await compose.capture(logsArgs({ tail: 30, noColor: true, services: [culprit] }));
    process.stderr.write(`--- last log lines of ${culprit} ---\n${logs.stdout}${logs.stderr}--- end of ${culprit} logs ---\n`);
  }
  throw new CslrError(why);
}

/** The URLs to use, with the Ray ones taken from the elected head. */
async function printAddresses(model: Model, rosterUrl: string | undefined) {
  const host = detectHostAddress() ?? "127.0.0.1";
  const roster = rosterUrl ? await fetchRoster(rosterUrl) : undefined;
  const head = roster && "roster" in roster ? roster.roster.head : null;
  const urls = endpoints(model, host, head);
  const lines = [
    urls.rayDashboard && `  Ray dashboard  ${urls.rayDashboard}`,
    urls.rayClient && `  Ray client     ${urls.rayClient}`,
    urls.mlflow && `  MLflow UI      ${urls.mlflow}`,
    urls.marimo && `  Marimo         ${urls.marimo}`,
    urls.redis && `  Redis          ${urls.redis}`,
  ].filter(Boolean);
  if (lines.length > 0) process.stderr.write(`${lines.join("\n")}\n`);
}
