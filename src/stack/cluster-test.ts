/**
 * The use case of `cslr test`: the network-isolation test with a verdict. Brings up the test
 * stack of `_build/cluster-test.compose.yaml`, runs the checks from inside it, prints ✓/✗ per
 * check and removes the test containers unless kept. `up`, `down`, `logs` manage them by hand.
 */
import { checksDocument, renderChecks } from "../checks.ts";
import { runClusterChecks } from "../clustertest/run.ts";
import { formatVerdict, verdictExitCode } from "../clustertest/verdict.ts";
import { downArgs, execArgs, logsArgs, psArgs, upArgs } from "../compose/argv.ts";
import { assertSubnetsFree, engineOf } from "../compose/networks.ts";
import { runningServices } from "../compose/ports.ts";
import { parsePs } from "../compose/ps.ts";
import { preflightProblem } from "../clustertest/preflight.ts";
import type { Compose } from "../compose/runner.ts";
import type { ProjectPaths } from "../config/load.ts";
import type { Model } from "../config/model.ts";
import { CslrError } from "../errors.ts";
import { formatJson } from "../json.ts";
import { log } from "../log.ts";
import { clusterTest } from "../render/cluster-test.ts";
import { generateProject } from "../render/generate.ts";
import { sessionAt, type Session } from "./session.ts";

export type ClusterTestAction = "up" | "down" | "logs" | "check";

export interface ClusterTestOptions {
  action: ClusterTestAction;
  /** Keep the test containers after the checks. */
  keep?: boolean;
  /** Print the verdict as { schemaVersion, ok, checks } on stdout. */
  json?: boolean;
  /** How long to wait for the worker to join; default the config's cluster_test.timeout. */
  timeoutMs?: number;
}

/** Runs compose quietly and throws its last error line when it fails. */
async function composeOrThrow(compose: Compose, args: string[], what: string): Promise<void> {
  const result = await compose.capture(args);
  if (result.code !== 0) {
    const reason = result.stderr.trim().split("\n").filter(Boolean).at(-1) ?? `exit ${result.code}`;
    throw new CslrError(`${what} failed: ${reason}`);
  }
}

const removeTestStack = downArgs({ volumes: true, removeOrphans: true });

export async function runClusterTest(paths: ProjectPaths, options: ClusterTestOptions): Promise<void> {
  if (options.action === "down" || options.action === "logs") return manageByHand(paths, options.action);
  const { model } = await generateProject(paths);
  const session = await sessionAt(paths, { file: "cluster-test" });
  await assertReadyToTest(paths, model, session);
  const { compose, target } = session;
  log.start(`starting the test containers (${target.projectName}) on ${model.clusterTest.subnet ?? "a subnet Docker picks"}`);
  if (options.action === "up") {
    await composeOrThrow(compose, upArgs({ detach: true, forceRecreate: true, removeOrphans: true }), "starting the test containers");
    log.success(
      `test containers running; check by hand with \`docker compose -p ${target.projectName} exec ${clusterTest.client} bash\`, remove with \`cslr test --down\``,
    );
    return;
  }
  try {
    await checkFromTestStack(model, session, options);
  } finally {
    // Also after a failed start: half-created test containers must not linger.
    if (options.keep) log.info("test containers kept; remove them with `cslr test --down`");
    else await composeOrThrow(compose, removeTestStack, "removing the test containers");
  }
}

/** By hand: act on the file that describes what is running, without regenerating it. */
async function manageByHand(paths: ProjectPaths, action: "down" | "logs"): Promise<void> {
  const { compose, target } = await sessionAt(paths, { file: "cluster-test", secrets: "placeholders" });
  if (action === "logs") return void (await compose.run(logsArgs({ noColor: true })));
  await composeOrThrow(compose, removeTestStack, "removing the test containers");
  log.success(`test containers of ${target.projectName} removed`);
}

/** The engine answers, the stack under test runs, and the test subnet is free. */
async function assertReadyToTest(paths: ProjectPaths, model: Model, { compose, target, doc }: Session): Promise<void> {
  await compose.ensureEngine();
  // Seconds, not the checks' whole timeout: a stack that is down is said at once.
  const stack = await sessionAt(paths, { secrets: "placeholders" });
  const problem = preflightProblem(model, await runningServices(stack.compose));
  if (problem) throw new CslrError(problem);
  await assertSubnetsFree(paths, doc, target.projectName, engineOf(compose.tool));
}

/** Starts the client, runs the checks (which start the worker), and prints the verdict. */
async function checkFromTestStack(model: Model, { compose, doc }: Session, options: ClusterTestOptions): Promise<void> {
  const advertised = doc.services?.[clusterTest.worker]?.environment?.CSLR_NODE_ADDRESS;
  const pin = doc.services?.[clusterTest.worker]?.environment?.CSLR_HEALTH_PIN;
  // The client first: the checks read the roster before the worker joins (see startWorker).
  await composeOrThrow(compose, upArgs({ detach: true, forceRecreate: true, removeOrphans: true, services: [clusterTest.client] }), "starting the test client");
  const results = await runClusterChecks(
    model,
    {
      hostAddress: typeof advertised === "string" ? advertised : "",
      // The pin the test worker checks the election service against, as rendered for it.
      electionPin: typeof pin === "string" ? pin : undefined,
      timeoutMs: options.timeoutMs ?? model.clusterTest.timeout * 1000,
      onResult: (r) => log.debug(renderChecks([r]).trimEnd()),
    },
    {
      startWorker: () => composeOrThrow(compose, upArgs({ detach: true, forceRecreate: true, services: [clusterTest.worker] }), "starting the test worker"),
      probe: (argv) => compose.capture(execArgs({ service: clusterTest.client, command: argv, tty: false })),
      workerState: async () => {
        const rows = parsePs((await compose.capture(psArgs({ all: true, json: true, services: [clusterTest.worker] }))).stdout);
        return rows.find((row) => row.service === clusterTest.worker)?.state;
      },
      sleep: (ms) => Bun.sleep(ms),
      now: () => Date.now(),
    },
  );
  process.stdout.write(options.json ? formatJson(checksDocument(results)) : `${formatVerdict(results)}\n`);
  process.exitCode = verdictExitCode(results);
}
