/** `cslr status`: the arguments; the use case is src/stack/status.ts. */
import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { resolveProject } from "../config/load.ts";
import { isHostname } from "../config/schema.ts";
import { UsageError } from "../errors.ts";
import { showStatus } from "../stack/status.ts";

export default defineCommand({
  meta: {
    name: "status",
    description:
      "Services, the Ray head and its workers, and the addresses to use; exit 0 a ready head, 3 no ready head, 1 the election service could not be asked",
  },
  args: {
    ...commonArgs,
    json: { type: "boolean", description: "Print the same data as { schemaVersion, ... } on stdout, for scripts" },
    host: {
      type: "string",
      description: "Address other machines reach this host by (default: auto-detected)",
      valueHint: "ADDR",
    },
  },
  async run({ args }) {
    if (args.host !== undefined && !isHostname(args.host)) {
      throw new UsageError(`--host ${args.host}: not a hostname or IPv4 address; expected something like 10.0.0.5`);
    }
    await showStatus(resolveProject(args), { json: args.json, host: args.host });
  },
});
