/** `cslr handover [NODE]`: the arguments; the use case is src/stack/handover.ts. */
import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { handoverStack } from "../stack/handover.ts";

export default defineCommand({
  meta: { name: "handover", description: "Move the Ray head to NODE (or any other whitelisted node) and print how long it took" },
  args: {
    ...commonArgs,
    node: { type: "positional", required: false, description: "The whitelisted node to become head (default: any other)", valueHint: "NODE" },
    timeout: { type: "string", default: "120", description: "Seconds to wait for the new head to be ready", valueHint: "SECONDS" },
  },
  async run({ args }) {
    await handoverStack(args, { node: args.node === undefined ? undefined : String(args.node), timeout: args.timeout });
  },
});
