import { defineCommand } from "citty";
import { composeArgs } from "../args.ts";
import { logsArgs, psArgs, upArgs } from "../compose/argv.ts";
import { busyPublishedPorts, runningServices } from "../compose/ports.ts";
import { parsePs } from "../compose/ps.ts";
import { portConflictMessage } from "../compose/published.ts";
import { openSession, type Session } from "../compose/session.ts";
import { serviceNames } from "../compose/target.ts";
import type { Model } from "../config/model.ts";
import { readSecret } from "../config/dotenv.ts";
import { parseDurationMs } from "../config/units.ts";
import { readCluster } from "../election/client.ts";
import { CslrError, UsageError } from "../errors.ts";
import { detectHostAddress } from "../host/address.ts";
import { describePhase } from "../status/phase.ts";
import { rosterUrl } from "../status/roster.ts";
import { endpoints } from "../status/view.ts";
import { culpritService, progressPrinter, waitExpectation, waitForCluster } from "../status/wait.ts";

const defaultWaitSeconds = 300;

export default defineCommand({
  meta: { name: "up", description: "Generate _build/ and start the stack (docker compose up)" },
  args: {
    ...composeArgs,
    service: { type: "positional", required: false, description: "Services to start (default: all of them)", valueHint: "SERVICE..." },
    detach: { type: "boolean", alias: "d", description: "Run in the background" },
    build: { type: "boolean", description: "Build images before starting" },
    wait: { type: "boolean", description: "Wait until the cluster is ready (implies -d)" },
    "wait-timeout": { type: "string", description: `Give up waiting after this long (default ${defaultWaitSeconds}s)`, valueHint: "SECONDS" },
    generate: {
      type: "boolean",
      default: true,
      description: "Regenerate _build/ from the config first; --no-generate uses it as it is",
    },
  },
  async run({ args }) {
    const waitSeconds = waitDeadline(args.wait, args["wait-timeout"]);
    const services = args._.map(String);
    const session = await openSession(args, {
      generate: args.generate !== false,
      model: args.generate === false ? "optional" : undefined,
    });
    const all = serviceNames(session.doc);
    const unknown = services.filter((s) => !all.includes(s));
    if (unknown.length > 0) {
      throw new UsageError(`no service ${unknown.join(", ")} in ${session.target.composeFile}; expected one of: ${all.join(", ")}`);
    }
    const starting = services.length > 0 ? services : all;
    if (!args["dry-run"]) {
      await session.compose.ensureEngine();
      const busy = await busyPublishedPorts(session.doc, await runningServices(session.compose), session.model, starting);
      if (busy.length > 0) throw new CslrError(portConflictMessage(busy));
    }
    await session.compose.run(upArgs({ detach: args.detach || waitSeconds !== undefined, build: args.build, services }));
    if (waitSeconds !== undefined && !args["dry-run"]) await waitUntilReady(session, starting, waitSeconds);
  },
});

/** `--wait` with an optional `--wait-timeout` (docker compose's names); the timeout alone implies nothing. */
function waitDeadline(wait: boolean | undefined, timeout: string | undefined): number | undefined {
  if (timeout !== undefined && !wait) throw new UsageError("--wait-timeout only applies with --wait; expected `cslr up --wait --wait-timeout 120`");
  if (!wait) return undefined;
  if (timeout === undefined) return defaultWaitSeconds;
  const ms = parseDurationMs(timeout);
  if (ms === undefined) throw new UsageError(`--wait-timeout ${JSON.stringify(timeout)}: expected a duration like 120, 120s or 5m`);
  return ms / 1000;
}

async function waitUntilReady(session: Session, services: string[], seconds: number): Promise<void> {
  const { compose, model } = session;
  const expect = waitExpectation(services, model);
  const url = model ? rosterUrl(model) : undefined;
  const token = readSecret(session.paths.envFile, "CSLR_CLUSTER_TOKEN");
  const printer = progressPrinter(process.stderr);
  const { phase, timedOut } = await waitForCluster(expect, seconds, {
    ps: async () => parsePs(await compose.captureOk(psArgs({ json: true, all: true }))),
    roster: () => (url ? readCluster(url, { timeoutMs: 2000, token }) : Promise.resolve({ error: "no election service configured" })),
    now: () => Date.now(),
    sleep: (ms) => Bun.sleep(ms),
    progress: (_phase, text) => printer.show(text),
  });
  printer.done();
  if (phase.kind === "ready") {
    if (model) await printAddresses(model, url, token);
    return;
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
async function printAddresses(model: Model, url: string | undefined, token: string | undefined) {
  const host = detectHostAddress() ?? "127.0.0.1";
  const roster = url ? await readCluster(url, { timeoutMs: 2000, token }) : undefined;
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
