import { defineCommand } from "citty";
import { composeArgs } from "../args.ts";
import { downArgs, parseStopTimeout } from "../compose/argv.ts";
import { openSession } from "../compose/session.ts";

export default defineCommand({
  meta: { name: "down", description: "Stop and remove the stack's containers and network (docker compose down)" },
  args: {
    ...composeArgs,
    volumes: { type: "boolean", alias: "v", description: "Also remove named volumes (PostgreSQL and MLflow data)" },
    "remove-orphans": { type: "boolean", description: "Remove containers of services no longer in the compose file" },
    timeout: { type: "string", alias: "t", description: "Seconds each container gets to stop before it is killed (compose's default: 10; Ray nodes: 30)", valueHint: "SECONDS" },
  },
  async run({ args }) {
    const timeoutSeconds = parseStopTimeout(args.timeout);
    const { compose } = await openSession(args, { secrets: "placeholders" });
    await compose.run(downArgs({ volumes: args.volumes, removeOrphans: args["remove-orphans"], timeoutSeconds }));
  },
});
