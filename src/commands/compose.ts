import { defineCommand } from "citty";
import { composeArgs } from "../args.ts";
import { passthroughArgs } from "../compose/argv.ts";
import { childExit } from "../compose/runner.ts";
import { openSession } from "../stack/session.ts";
import { UsageError } from "../errors.ts";

export default defineCommand({
  meta: {
    name: "compose",
    description: "Run any docker compose command on the stack: cslr compose -- ARGS... (file, project and .env are added)",
  },
  args: {
    ...composeArgs,
    args: { type: "positional", required: false, description: "The compose command, after --", valueHint: "ARGS..." },
  },
  async run({ args, rawArgs }) {
    const passthrough = passthroughArgs(rawArgs, args._.map(String));
    if (passthrough.length === 0) throw new UsageError("cslr compose: expected compose arguments after --, like `cslr compose -- config`");
    const { compose } = await openSession(args);
    // Some compose commands (config, version) work without an engine: let compose judge, and
    // explain a stopped engine only if it fails.
    const code = await compose.runRaw(passthrough, { checkEngine: false });
    if (code !== 0 && !args["dry-run"]) await compose.ensureEngine();
    childExit(code, [compose.tool.kind, passthrough[0] ?? ""]);
  },
});
