/**
 * `cslr test`: the network-isolation test with a verdict (the use case is
 * src/stack/cluster-test.ts; this file checks the arguments). `--up`, `--down`, `--logs` manage
 * the test containers by hand.
 */
import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { resolveProject } from "../config/load.ts";
import { parseDurationMs } from "../config/units.ts";
import { UsageError } from "../errors.ts";
import { runClusterTest, type ClusterTestAction } from "../stack/cluster-test.ts";

function chosenAction(args: { up?: boolean; down?: boolean; logs?: boolean }): ClusterTestAction {
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
    await runClusterTest(resolveProject(args), { action, keep: args.keep, json: args.json, timeoutMs: timeout });
  },
});
