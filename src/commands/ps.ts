import { defineCommand } from "citty";
import { composeArgs } from "../args.ts";
import { psArgs } from "../compose/argv.ts";
import { parsePs } from "../compose/ps.ts";
import { openSession } from "../compose/session.ts";

export default defineCommand({
  meta: { name: "ps", description: "List the stack's containers (docker compose ps)" },
  args: {
    ...composeArgs,
    json: { type: "boolean", description: "Print a JSON array of { service, name, state, health, exitCode, status, ports } to stdout" },
    all: { type: "boolean", alias: "a", description: "Include stopped containers" },
  },
  async run({ args }) {
    const { compose } = await openSession(args, { secrets: "placeholders" });
    const sub = psArgs({ json: args.json, all: args.all });
    if (!args.json || args["dry-run"]) return void (await compose.run(sub));
    // Compose's own JSON differs between versions (array vs one object per line): normalise.
    const rows = parsePs(await compose.captureOk(sub));
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  },
});
