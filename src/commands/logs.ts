import { defineCommand } from "citty";
import { composeArgs } from "../args.ts";
import { logsArgs, parseLogTime } from "../compose/argv.ts";
import { openSession } from "../compose/session.ts";
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
  },
  async run({ args }) {
    const tail = parseTail(args.tail);
    const since = parseLogTime("since", args.since);
    const until = parseLogTime("until", args.until);
    const { compose } = await openSession(args);
    await compose.run(logsArgs({ follow: args.follow, tail, since, until, timestamps: args.timestamps, services: args._.map(String) }));
  },
});
