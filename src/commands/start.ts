import { defineCommand } from "citty";
import { composeArgs } from "../args.ts";
import { startArgs } from "../compose/argv.ts";
import { openSession } from "../stack/session.ts";
import { checkServices } from "../compose/target.ts";

export default defineCommand({
  meta: { name: "start", description: "Start the stack's stopped containers again (docker compose start); nothing is recreated" },
  args: {
    ...composeArgs,
    service: { type: "positional", required: false, description: "Services to start (default: all of them)", valueHint: "SERVICE..." },
  },
  async run({ args }) {
    const services = args._.map(String);
    const { compose, doc, target } = await openSession(args);
    checkServices(doc, target.composeFile, services);
    await compose.run(startArgs({ services }));
  },
});
