/**
 * `cslr test`: the network-isolation test with a verdict. Brings up the test stack of
 * `_build/cluster-test.compose.yaml`, runs the checks from inside it, prints ✓/✗ per check and
 * removes the test containers unless --keep. `--up`, `--down`, `--logs` manage them by hand.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { defineCommand } from "citty";
import { parse } from "yaml";
import { commonArgs } from "../args.ts";
import type { ComposeTarget } from "../compose/argv.ts";
import { parsePs } from "../compose/ps.ts";
import { Compose } from "../compose/runner.ts";
import { runClusterChecks } from "../clustertest/run.ts";
import { clusterTest } from "../clustertest/render.ts";
import { clusterTestSettings } from "../clustertest/settings.ts";
import { formatCheck, formatVerdict, verdictExitCode } from "../clustertest/verdict.ts";
import { CslrError, UsageError } from "../errors.ts";
import { log, setLogLevel } from "../log.ts";
import { generateProject } from "../project.ts";

const clusterTestFileName = "cluster-test.compose.yaml";

interface ClusterTestFile {
  target: ComposeTarget;
  /** CSLR_NODE_ADDRESS as rendered: what the test worker advertises. */
  hostAddress?: string;
}

/** Reads what the generated file says: project name and the worker's advertised address. */
async function readClusterTestFile(composeFile: string, envFile: string, projectDir: string): Promise<ClusterTestFile> {
  if (!existsSync(composeFile)) {
    throw new CslrError(`no ${composeFile}: run \`cslr generate\` (or \`cslr test\`, which generates it) first`);
  }
  const doc = parse(await Bun.file(composeFile).text()) as {
    name?: unknown;
    services?: Record<string, { environment?: Record<string, unknown> }>;
  } | null;
  if (!doc || typeof doc.name !== "string" || !doc.services?.[clusterTest.client]) {
    throw new CslrError(`${composeFile} is not a cslr cluster test file (no name or no ${clusterTest.client}): regenerate it with \`cslr generate\``);
  }
  const address = doc.services[clusterTest.worker]?.environment?.CSLR_NODE_ADDRESS;
  return {
    target: { composeFile, projectName: doc.name, envFile: existsSync(envFile) ? envFile : undefined, projectDir },
    hostAddress: typeof address === "string" ? address : undefined,
  };
}

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

export default defineCommand({
  meta: { name: "test", description: "Check from an isolated network that the cluster is reachable through this host, with a verdict" },
  args: {
    ...commonArgs,
    up: { type: "boolean", description: "Only start the test containers (and leave them running)" },
    down: { type: "boolean", description: "Remove the test containers" },
    logs: { type: "boolean", description: "Show the test containers' logs" },
    keep: { type: "boolean", description: "Keep the test containers after the checks" },
    timeout: { type: "string", description: "Seconds to wait for the worker to join (default: cluster_test.timeout or 60)", valueHint: "SECONDS" },
  },
  async run({ args }) {
    setLogLevel(args);
    const action = chosenAction(args);
    const timeoutSeconds = args.timeout === undefined ? undefined : Number(args.timeout);
    if (timeoutSeconds !== undefined && !(Number.isFinite(timeoutSeconds) && timeoutSeconds > 0)) {
      throw new UsageError(`--timeout ${args.timeout}: expected a number of seconds greater than 0`);
    }

    if (action === "down" || action === "logs") {
      // By hand: act on the file that describes what is running, without regenerating it.
      const projectDir = dirname(resolve(args.config));
      const file = await readClusterTestFile(resolve(args.out, clusterTestFileName), join(projectDir, ".env"), projectDir);
      const compose = await Compose.open(file.target);
      if (action === "logs") return await compose.runRaw(["logs", "--no-color"]);
      await composeOrThrow(compose, ["down", "--volumes", "--remove-orphans"], "removing the test containers");
      log.success(`test containers of ${file.target.projectName} removed`);
      return 0;
    }

    const generated = await generateProject({ config: args.config, nodes: args.nodes, out: args.out });
    const file = await readClusterTestFile(generated.clusterTestFile, generated.envFile, generated.projectDir);
    const target = file.target;
    const compose = await Compose.open(target);
    log.start(`starting the test containers (${target.projectName}) on ${generated.model.clusterTest.subnet}`);
    if (action === "up") {
      await composeOrThrow(compose, ["up", "--detach", "--force-recreate", "--remove-orphans"], "starting the test containers");
      log.success(`test containers running; check by hand with \`docker compose -p ${target.projectName} exec ${clusterTest.client} bash\`, remove with \`cslr test --down\``);
      return 0;
    }

    try {
      // The client first: the checks read the roster before the worker joins (see startWorker).
      await composeOrThrow(compose, ["up", "--detach", "--force-recreate", "--remove-orphans", clusterTest.client], "starting the test client");
      const settings = clusterTestSettings(generated.model);
      const results = await runClusterChecks(
        generated.model,
        {
          hostAddress: file.hostAddress ?? "",
          timeoutMs: (timeoutSeconds ?? settings.timeout) * 1000,
          onResult: (r) => log.debug(formatCheck(r).join("\n")),
        },
        {
          startWorker: () => composeOrThrow(compose, ["up", "--detach", "--force-recreate", clusterTest.worker], "starting the test worker"),
          probe: (argv) => compose.capture(["exec", "-T", clusterTest.client, ...argv]),
          workerState: async () =>
            parsePs((await compose.capture(["ps", "--all", "--format", "json", clusterTest.worker])).stdout).find(
              (row) => row.service === clusterTest.worker,
            )?.state,
          sleep: (ms) => Bun.sleep(ms),
          now: () => Date.now(),
        },
      );
      process.stdout.write(`${formatVerdict(results)}\n`);
      return verdictExitCode(results);
    } finally {
      // Also after a failed start: half-created test containers must not linger.
      if (args.keep) log.info("test containers kept; remove them with `cslr test --down`");
      else await composeOrThrow(compose, ["down", "--volumes", "--remove-orphans"], "removing the test containers");
    }
  },
});
