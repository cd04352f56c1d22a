/** `cslr leave`: the arguments; the use case is src/stack/leave.ts. */
import { defineCommand } from "citty";
import { composeArgs } from "../args.ts";
import { leaveStack } from "../stack/leave.ts";
import { openSession } from "../stack/session.ts";

export default defineCommand({
  meta: { name: "leave", description: "Take this workstation's Ray nodes off the cluster (stops its stack)" },
  args: { ...composeArgs },
  async run({ args }) {
    await leaveStack(await openSession(args, { model: "required" }), { dryRun: args["dry-run"] });
  },
});
