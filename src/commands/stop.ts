import { defineCommand } from "citty";
import { composeArgs, stopTimeoutArgs } from "../args.ts";
import { parseStopTimeout, stopArgs } from "../compose/argv.ts";
import { openSession } from "../stack/session.ts";
import { checkServices } from "../compose/target.ts";

export default defineCommand({
  meta: { name: "stop", description: "Stop the stack's containers and keep them (docker compose stop); `cslr start` resumes them" },
  args: {
    ...composeArgs,
    ...stopTimeoutArgs,
    service: { type: "positional", required: false, description: "Services to stop (default: all of them)", valueHint: "SERVICE..." },
  },
  async run({ args }) {
    const timeoutSeconds = parseStopTimeout(args.timeout);
    const services = args._.map(String);
    const { compose, doc, target } = await openSession(args);
    checkServices(doc, target.composeFile, services);
    await compose.run(stopArgs({ services, timeoutSeconds }));
  },
});
