/**
 * `cslr help [COMMAND [SUB]]`: the same text as `cslr COMMAND SUB --help`, for people who type
 * help first. The words are resolved as the dispatcher resolves them, so an unknown one is
 * exit 2 with the same did-you-mean.
 */
import { defineCommand } from "citty";
import { logArgs } from "../args.ts";
import { resolveCommand, rootOf, showHelp } from "../dispatch.ts";
import { UsageError } from "../errors.ts";

export default defineCommand({
  meta: { name: "help", description: "Show the help of cslr or of one command: cslr help [COMMAND [SUB]]" },
  args: {
    ...logArgs,
    command: { type: "positional", required: false, description: "The command (and subcommand) to explain", valueHint: "COMMAND..." },
  },
  async run({ args, data }) {
    const words = args._.map(String);
    const resolved = await resolveCommand(rootOf(data), words);
    const extra = resolved.args[0];
    if (extra !== undefined) {
      const where = ["cslr", ...resolved.path].join(" ");
      throw new UsageError(`cslr help: ${where} has no subcommand "${extra}"; expected \`cslr help ${resolved.path.join(" ")}\``);
    }
    await showHelp(resolved);
  },
});
