import { defineCommand } from "citty";
import { composeArgs } from "../args.ts";
import { execArgs, optionValue, parseReplicaIndex, splitExecArgs } from "../compose/argv.ts";
import { openSession } from "../stack/session.ts";
import { checkServices } from "../compose/target.ts";
import { UsageError } from "../errors.ts";

const execOptions = {
  ...composeArgs,
  index: { type: "string", description: "Run in replica N of the service (from 1); before SERVICE", valueHint: "N" },
} as const;

const valueFlags = Object.entries(execOptions)
  .filter(([, def]) => def.type === "string")
  .map(([name]) => name);

export default defineCommand({
  meta: { name: "exec", description: "Run a command in a running service: cslr exec [--index N] SERVICE CMD..." },
  args: {
    ...execOptions,
    service: { type: "positional", required: false, description: "Service to run in, like ray-cpu, then the command", valueHint: "SERVICE CMD..." },
  },
  async run({ rawArgs }) {
    // citty also parses the passed-through command's words; cslr's own options are only
    // those before SERVICE, so read them from there.
    const { service, command, options } = splitExecArgs(rawArgs, valueFlags);
    const index = parseReplicaIndex(optionValue(options, "index"));
    if (!service || command.length === 0) {
      throw new UsageError("cslr exec: expected a service and a command, like `cslr exec ray-cpu ray status`");
    }
    const { compose, doc, target } = await openSession({
      config: optionValue(options, "config"),
      nodes: optionValue(options, "nodes"),
      out: optionValue(options, "out"),
      "dry-run": options.includes("--dry-run"),
    });
    checkServices(doc, target.composeFile, [service]);
    const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
    await compose.run(execArgs({ service, command, tty, index }));
  },
});
