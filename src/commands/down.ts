import { defineCommand } from "citty";
import { composeArgs, stopTimeoutArgs } from "../args.ts";
import { downArgs, parseStopTimeout } from "../compose/argv.ts";
import { openSession } from "../stack/session.ts";

export default defineCommand({
  meta: { name: "down", description: "Stop and remove the stack's containers and network (docker compose down)" },
  args: {
    ...composeArgs,
    volumes: { type: "boolean", alias: "v", description: "Also remove named volumes (PostgreSQL and MLflow data)" },
    "remove-orphans": { type: "boolean", description: "Remove containers of services no longer in the compose file" },
    ...stopTimeoutArgs,
  },
  async run({ args }) {
    const timeoutSeconds = parseStopTimeout(args.timeout);
    const { compose } = await openSession(args, { secrets: "placeholders" });
    await compose.run(downArgs({ volumes: args.volumes, removeOrphans: args["remove-orphans"], timeoutSeconds }));
  },
});
