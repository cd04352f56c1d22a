import { defineCommand } from "citty";
import type { ResolveTarget } from "../../jobs/cli-io.ts";
import { headClient, jobsArgs } from "./shared.ts";

export function makeListCommand(resolveTarget?: ResolveTarget) {
  return defineCommand({
    meta: { name: "list", description: "The cluster's jobs: id, status, start, duration, entrypoint" },
    args: { ...jobsArgs, json: { type: "boolean", description: "Print { schemaVersion, jobs: [Ray's job details] } on stdout" } },
    async run({ args }) {
      const client = await headClient(resolveTarget, args);
      const { listJobs } = await import("../../jobs/jobs.ts");
      process.exitCode = await listJobs(client, { json: Boolean(args.json) }, (text) => process.stdout.write(text));
    },
  });
}

export default makeListCommand();
