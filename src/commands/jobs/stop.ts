import { defineCommand } from "citty";
import type { ResolveTarget } from "../../jobs/cli-io.ts";
import { infoLine } from "../../log.ts";
import { headClient, jobsArgs } from "./shared.ts";

export function makeStopCommand(resolveTarget?: ResolveTarget) {
  return defineCommand({
    meta: { name: "stop", description: "Ask the cluster to stop a job (SIGTERM, then SIGKILL after Ray's grace period)" },
    args: { ...jobsArgs, id: { type: "positional", required: true, description: "Submission id", valueHint: "ID" } },
    async run({ args }) {
      const client = await headClient(resolveTarget, args);
      const { stopJob } = await import("../../jobs/jobs.ts");
      process.exitCode = await stopJob(client, args.id, infoLine);
    },
  });
}

export default makeStopCommand();
