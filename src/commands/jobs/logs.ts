import { defineCommand } from "citty";
import type { ResolveTarget } from "../../jobs/cli-io.ts";
import { infoLine } from "../../log.ts";
import { headClient, jobsArgs } from "./shared.ts";

export function makeLogsCommand(resolveTarget?: ResolveTarget) {
  return defineCommand({
    meta: { name: "logs", description: "A job's log; -f follows it until the job ends (Ctrl-C stops following, not the job)" },
    args: {
      ...jobsArgs,
      id: { type: "positional", required: true, description: "Submission id (from cslr run or cslr jobs)", valueHint: "ID" },
      follow: { type: "boolean", alias: "f", description: "Keep printing until the job ends" },
    },
    async run({ args }) {
      const client = await headClient(resolveTarget, args);
      const [{ showLogs }, io] = await Promise.all([import("../../jobs/jobs.ts"), import("../../jobs/cli-io.ts")]);
      process.exitCode = await showLogs(
        client,
        args.id,
        { follow: Boolean(args.follow) },
        {
          writeLog: io.boundedLogWriter(process.stdout),
          say: (line) => process.stderr.write(`${line}\n`),
          info: infoLine,
          logOnScreen: Boolean(process.stdout.isTTY),
          interrupts: io.processInterrupts,
        },
      );
    },
  });
}

export default makeLogsCommand();
