import { defineCommand } from "citty";
import { composeArgs, stopTimeoutArgs } from "../args.ts";
import { parseStopTimeout, restartArgs } from "../compose/argv.ts";
import { openSession } from "../stack/session.ts";
import { checkServices } from "../compose/target.ts";

export default defineCommand({
  meta: { name: "restart", description: "Restart the stack's containers (docker compose restart); config changes need `cslr up`" },
  args: {
    ...composeArgs,
    ...stopTimeoutArgs,
    service: { type: "positional", required: false, description: "Services to restart (default: all of them)", valueHint: "SERVICE..." },
  },
  async run({ args }) {
    const timeoutSeconds = parseStopTimeout(args.timeout);
    const services = args._.map(String);
    const { compose, doc, target } = await openSession(args);
    checkServices(doc, target.composeFile, services);
    await compose.run(restartArgs({ services, timeoutSeconds }));
  },
});
