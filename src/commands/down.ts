import { defineCommand } from "citty";
import { downArgs } from "../compose/argv.ts";
import { composeArgs } from "../compose/args.ts";
import { openSession } from "../compose/session.ts";
import { setLogLevel } from "../log.ts";

export default defineCommand({
  meta: { name: "down", description: "Stop and remove the stack's containers and network (docker compose down)" },
  args: {
    ...composeArgs,
    volumes: { type: "boolean", alias: "v", description: "Also remove named volumes (PostgreSQL and MLflow data)" },
    "remove-orphans": { type: "boolean", description: "Remove containers of services no longer in the compose file" },
  },
  async run({ args }) {
    setLogLevel(args);
    const { compose } = await openSession(args);
    return compose.run(downArgs({ volumes: args.volumes, removeOrphans: args["remove-orphans"] }));
  },
});
