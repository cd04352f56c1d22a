/** `cslr ports`: the arguments; the use case is src/stack/ports.ts. */
import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { resolveProject } from "../config/load.ts";
import { showPorts } from "../stack/ports.ts";

export default defineCommand({
  meta: { name: "ports", description: "This host's port plan: each port, its service and purpose, and the firewall lines" },
  args: { ...commonArgs, json: { type: "boolean", description: "Print { schemaVersion, host, address, mode, ports, firewall } on stdout" } },
  async run({ args }) {
    await showPorts(resolveProject(args), { json: args.json });
  },
});
