/**
 * `cslr logs --index N SERVICE`: one replica's log. Compose >= 2.24 does it itself (`logs
 * --index`); with an older Compose or podman compose, the replica's container is found by the
 * labels compose puts on it (project, service, com.docker.compose.container-number) and its
 * log read with the engine's `logs`, which takes the same --follow/--tail/--since/--until/-t.
 */
import { CslrError } from "../errors.ts";
import {
  composeLogsHasIndex,
  containerLogsArgs,
  engineProgram,
  formatCommandLine,
  logsArgs,
  parseReplicaList,
  replicaListArgs,
  replicaLookupArgs,
  type LogsOptions,
} from "./argv.ts";
import type { Compose } from "./runner.ts";

export async function replicaLogs(compose: Compose, service: string, index: number, options: Omit<LogsOptions, "services" | "index">): Promise<void> {
  if (composeLogsHasIndex(compose.tool)) {
    await compose.run(logsArgs({ ...options, services: [service], index }));
    return;
  }
  const project = compose.target.projectName;
  const engine = engineProgram(compose.tool);
  if (compose.options.dryRun) {
    // One line a shell can run: the lookup inside the logs command.
    const lookup = formatCommandLine([engine, ...replicaLookupArgs(project, service, index)]);
    process.stdout.write(`${formatCommandLine([engine, ...containerLogsArgs("CONTAINER", options).slice(0, -1)])} "$(${lookup})"\n`);
    return;
  }
  const ids = (await compose.captureEngine(replicaLookupArgs(project, service, index))).split("\n").filter((l) => l.trim() !== "");
  if (ids.length === 0) throw new CslrError(await noReplicaMessage(compose, service, index));
  await compose.runEngine(containerLogsArgs(ids[0]!.trim(), options));
}

async function noReplicaMessage(compose: Compose, service: string, index: number): Promise<string> {
  const replicas = [...parseReplicaList(await compose.captureEngine(replicaListArgs(compose.target.projectName, service))).keys()].sort((a, b) => a - b);
  if (replicas.length === 0) return `${service} has no containers in project ${compose.target.projectName}; start it with \`cslr up -d ${service}\``;
  return `${service} has no replica ${index}; its replicas are ${replicas.join(", ")}`;
}
