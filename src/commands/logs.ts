import { defineCommand } from "citty";
import { composeArgs } from "../args.ts";
import { logsArgs } from "../compose/argv.ts";
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
    tail: { type: "string", description: "Only the last N lines of each service", valueHint: "N" },
  },
  async run({ args }) {
    const tail = parseTail(args.tail);
    const { compose } = await openSession(args, { secrets: "placeholders" });
    await compose.run(logsArgs({ follow: args.follow, tail, services: args._.map(String) }));
  },
});
