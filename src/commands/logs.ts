import { defineCommand } from "citty";
import { composeArgs } from "../args.ts";
import { logsArgs, parseLogTime, parseReplicaIndex } from "../compose/argv.ts";
import { replicaLogs } from "../compose/replica.ts";
import { eraseLineStripper } from "../compose/runner.ts";
import { openSession } from "../stack/session.ts";
import { checkServices } from "../compose/target.ts";
import { UsageError } from "../errors.ts";

export function parseTail(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--tail ${value}: expected a whole number of lines, like --tail 100`);
  return Number(value);
}

export default defineCommand({
  meta: { name: "logs", description: "Show the services' logs (docker compose logs); Ctrl-C stops -f" },
  args: {
    ...composeArgs,
    service: { type: "positional", required: false, description: "Services whose logs to show (default: all)", valueHint: "SERVICE..." },
    follow: { type: "boolean", alias: "f", description: "Keep printing new lines" },
    tail: { type: "string", alias: "n", description: "Only the last N lines of each service", valueHint: "N" },
    since: { type: "string", description: "Only lines since this time: 45s, 2h, 2026-01-02T13:23:37Z", valueHint: "TIME" },
    until: { type: "string", description: "Only lines before this time (same forms as --since)", valueHint: "TIME" },
    timestamps: { type: "boolean", alias: "t", description: "Show each line's timestamp" },
    index: { type: "string", description: "Only replica N of the one SERVICE named (from 1)", valueHint: "N" },
  },
  async run({ args }) {
    const options = {
      follow: args.follow,
      tail: parseTail(args.tail),
      since: parseLogTime("since", args.since),
      until: parseLogTime("until", args.until),
      timestamps: args.timestamps,
    };
    const index = parseReplicaIndex(args.index);
    const services = args._.map(String);
    if (index !== undefined && services.length !== 1) {
      throw new UsageError(`cslr logs: --index needs exactly one SERVICE, like \`cslr logs --index 2 ray-worker\` (got ${services.length})`);
    }
    const { compose, doc, target } = await openSession(args, { secrets: "placeholders" });
    checkServices(doc, target.composeFile, services);
    if (index !== undefined) return void (await replicaLogs(compose, services[0]!, index, options));
    // NO_COLOR (no-color.org: set and not empty) means plain text: no colours, and none of
    // the erase-line escapes compose writes even with --no-color.
    const plain = !!process.env.NO_COLOR;
    await compose.run(logsArgs({ ...options, services, noColor: plain }), { stdoutFilter: plain ? eraseLineStripper() : undefined });
  },
});
