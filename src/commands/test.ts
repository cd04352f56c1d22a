/**
 * `cslr test`: the network-isolation test with a verdict. Brings up the test stack of
 * `_build/cluster-test.compose.yaml`, runs the checks from inside it, prints ✓/✗ per check and
 * removes the test containers unless --keep. `--up`, `--down`, `--logs` manage them by hand.
 */
import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { checksDocument, renderChecks } from "../checks.ts";
import { runClusterChecks } from "../clustertest/run.ts";
import { electionPin } from "../election/access.ts";
import { formatVerdict, verdictExitCode } from "../clustertest/verdict.ts";
import { downArgs, execArgs, logsArgs, psArgs, upArgs } from "../compose/argv.ts";
import { assertSubnetsFree, engineOf } from "../compose/networks.ts";
import { runningServices } from "../compose/ports.ts";
import { parsePs } from "../compose/ps.ts";
import { preflightProblem } from "../clustertest/preflight.ts";
import type { Compose } from "../compose/runner.ts";
import { sessionAt } from "../compose/session.ts";
import { resolveProject } from "../config/load.ts";
import { parseDurationMs } from "../config/units.ts";
import { CslrError, UsageError } from "../errors.ts";
import { formatJson } from "../json.ts";
import { log } from "../log.ts";
import { clusterTest } from "../render/cluster-test.ts";
import { generateProject } from "../render/generate.ts";

/** Runs compose quietly and throws its last error line when it fails. */
async function composeOrThrow(compose: Compose, args: string[], what: string): Promise<void> {
  const result = await compose.capture(args);
  if (result.code !== 0) {
    const reason = result.stderr.trim().split("\n").filter(Boolean).at(-1) ?? `exit ${result.code}`;
    throw new CslrError(`${what} failed: ${reason}`);
  }
}

function chosenAction(args: { up?: boolean; down?: boolean; logs?: boolean }): "up" | "down" | "logs" | "check" {
  const chosen = (["up", "down", "logs"] as const).filter((a) => args[a]);
  if (chosen.length > 1) throw new UsageError(`--${chosen.join(" and --")} cannot be combined; expected at most one of --up, --down, --logs`);
  return chosen[0] ?? "check";
}

function timeoutMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDurationMs(text);
  if (ms === undefined) throw new UsageError(`--timeout ${JSON.stringify(text)}: expected a duration like 60, 60s or 2m`);
  return ms;
}

const removeTestStack = downArgs({ volumes: true, removeOrphans: true });

export default defineCommand({
  meta: { name: "test", description: "Check from an isolated network that the cluster is reachable through this host, with a verdict" },
  args: {
    ...commonArgs,
    up: { type: "boolean", description: "Only start the test containers (and leave them running)" },
    down: { type: "boolean", description: "Remove the test containers" },
    logs: { type: "boolean", description: "Show the test containers' logs" },
    keep: { type: "boolean", description: "Keep the test containers after the checks" },
    timeout: { type: "string", description: "How long to wait for the worker to join (default: cluster_test.timeout)", valueHint: "SECONDS" },
    json: { type: "boolean", description: "Print the verdict as { schemaVersion, ok, checks } on stdout" },
  },
  async run({ args }) {
    const action = chosenAction(args);
    if (args.json && action !== "check") throw new UsageError(`--json reports the checks; expected \`cslr test --json\` without --${action}`);
    const timeout = timeoutMs(args.timeout);
    const paths = resolveProject(args);

    if (action === "down" || action === "logs") {
      // By hand: act on the file that describes what is running, without regenerating it.
      const { compose, target } = await sessionAt(paths, { file: "cluster-test", secrets: "placeholders" });
      if (action === "logs") return void (await compose.run(logsArgs({ noColor: true })));
      await composeOrThrow(compose, removeTestStack, "removing the test containers");
      log.success(`test containers of ${target.projectName} removed`);
      return;
    }

    const { model } = await generateProject(paths);
    const { compose, target, doc } = await sessionAt(paths, { file: "cluster-test" });
    await compose.ensureEngine();
    // Seconds, not the checks' whole timeout: a stack that is down is said at once.
    const stack = await sessionAt(paths, { secrets: "placeholders" });
    const problem = preflightProblem(model, await runningServices(stack.compose));
    if (problem) throw new CslrError(problem);
    await assertSubnetsFree(paths, doc, target.projectName, engineOf(compose.tool));
    const advertised = doc.services?.[clusterTest.worker]?.environment?.CSLR_NODE_ADDRESS;
    log.start(`starting the test containers (${target.projectName}) on ${model.clusterTest.subnet ?? "a subnet Docker picks"}`);
    if (action === "up") {
      await composeOrThrow(compose, upArgs({ detach: true, forceRecreate: true, removeOrphans: true }), "starting the test containers");
      log.success(`test containers running; check by hand with \`docker compose -p ${target.projectName} exec ${clusterTest.client} bash\`, remove with \`cslr test --down\``);
      return;
    }

    try {
      // The client first: the checks read the roster before the worker joins (see startWorker).
      await composeOrThrow(compose, upArgs({ detach: true, forceRecreate: true, removeOrphans: true, services: [clusterTest.client] }), "starting the test client");
      const results = await runClusterChecks(
        model,
        {
          hostAddress: typeof advertised === "string" ? advertised : "",
          electionPin: model.election.url.startsWith("https:") ? electionPin(model, paths) : undefined,
          timeoutMs: timeout ?? model.clusterTest.timeout * 1000,
          onResult: (r) => log.debug(renderChecks([r]).trimEnd()),
        },
        {
          startWorker: () => composeOrThrow(compose, upArgs({ detach: true, forceRecreate: true, services: [clusterTest.worker] }), "starting the test worker"),
          probe: (argv) => compose.capture(execArgs({ service: clusterTest.client, command: argv, tty: false })),
          workerState: async () =>
            parsePs((await compose.capture(psArgs({ all: true, json: true, services: [clusterTest.worker] }))).stdout).find(
              (row) => row.service === clusterTest.worker,
            )?.state,
          sleep: (ms) => Bun.sleep(ms),
          now: () => Date.now(),
        },
      );
      process.stdout.write(args.json ? formatJson(checksDocument(results)) : `${formatVerdict(results)}\n`);
      process.exitCode = verdictExitCode(results);
    } finally {
      // Also after a failed start: half-created test containers must not linger.
      if (args.keep) log.info("test containers kept; remove them with `cslr test --down`");
      else await composeOrThrow(compose, removeTestStack, "removing the test containers");
    }
  },
});
