import { defineCommand } from "citty";
import { execArgs, optionValue, splitExecArgs } from "../compose/argv.ts";
import { composeArgs } from "../compose/args.ts";
import { openSession } from "../compose/session.ts";
import { UsageError } from "../errors.ts";
import { setLogLevel } from "../log.ts";

const valueFlags = Object.entries(composeArgs)
  .filter(([, def]) => def.type === "string")
  .map(([name]) => name);

export default defineCommand({
  meta: { name: "exec", description: "Run a command in a running service: cslr exec SERVICE CMD..." },
  args: {
    ...composeArgs,
    service: { type: "positional", required: false, description: "Service to run in, like ray-cpu" },
  },
  async run({ rawArgs }) {
    // citty also parses the passed-through command's words; cslr's own options are only
    // those before SERVICE, so read them from there.
    const { service, command, options } = splitExecArgs(rawArgs, valueFlags);
    const has = (flag: string) => options.includes(`--${flag}`);
    setLogLevel({ verbose: has("verbose"), quiet: has("quiet") });
    if (!service || command.length === 0) {
      throw new UsageError("cslr exec: expected a service and a command, like `cslr exec ray-cpu ray status`");
    }
    const { compose } = await openSession({
      config: optionValue(options, "config") ?? composeArgs.config.default,
      nodes: optionValue(options, "nodes") ?? composeArgs.nodes.default,
      out: optionValue(options, "out") ?? composeArgs.out.default,
      "dry-run": has("dry-run"),
    });
    const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
    return compose.run(execArgs({ service, command, tty }));
  },
});
