import { defineCommand } from "citty";
import { composeArgs } from "../args.ts";
import { psArgs } from "../compose/argv.ts";
import { containerJson, parsePs } from "../compose/ps.ts";
import { openSession } from "../stack/session.ts";
import { formatJson, jsonDocument } from "../json.ts";

export default defineCommand({
  meta: { name: "ps", description: "List the stack's containers (docker compose ps)" },
  args: {
    ...composeArgs,
    json: { type: "boolean", description: "Print { schemaVersion, containers: [{ service, container, state, health, exitCode, status, ports }] } on stdout" },
    all: { type: "boolean", alias: "a", description: "Include stopped containers" },
  },
  async run({ args }) {
    const { compose } = await openSession(args, { secrets: "placeholders" });
    const sub = psArgs({ json: args.json, all: args.all });
    if (!args.json || args["dry-run"]) return void (await compose.run(sub));
    // Compose's own JSON differs between versions (array vs one object per line): normalise.
    const containers = parsePs(await compose.captureOk(sub)).map(containerJson);
    process.stdout.write(formatJson(jsonDocument({ containers })));
  },
});
