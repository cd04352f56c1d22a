import { defineCommand } from "citty";
import { composeArgs } from "../args.ts";
import { openSession } from "../stack/session.ts";
import { upStack, waitDeadline } from "../stack/up.ts";
import { defaultWaitSeconds } from "../status/wait.ts";

export default defineCommand({
  meta: { name: "up", description: "Generate _build/ and start the stack (docker compose up)" },
  args: {
    ...composeArgs,
    service: { type: "positional", required: false, description: "Services to start (default: all of them)", valueHint: "SERVICE..." },
    detach: { type: "boolean", alias: "d", description: "Run in the background" },
    build: { type: "boolean", description: "Build images before starting" },
    wait: {
      type: "boolean",
      description:
        "Wait until the cluster is usable: a head elected, its Jobs API answering, it and this host's Ray nodes ALIVE in Ray's own node list (implies -d)",
    },
    "wait-timeout": { type: "string", description: `Give up waiting after this long (default ${defaultWaitSeconds}s)`, valueHint: "SECONDS" },
    generate: {
      type: "boolean",
      default: true,
      description: "Regenerate _build/ from the config first; --no-generate uses it as it is",
    },
  },
  async run({ args }) {
    const waitSeconds = waitDeadline(args.wait, args["wait-timeout"]);
    const session = await openSession(args, {
      generate: args.generate !== false,
      model: args.generate === false ? "optional" : undefined,
      file: "latest",
    });
    await upStack(session, { services: args._.map(String), detach: args.detach, build: args.build, waitSeconds, dryRun: args["dry-run"] });
  },
});
