/** `cslr open`: the arguments; the use case is src/stack/open.ts. */
import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { resolveProject } from "../config/load.ts";
import { openPage } from "../stack/open.ts";

export default defineCommand({
  meta: { name: "open", description: "Open the lab page (cluster, GPUs, jobs, history) in the browser; prints its address when no browser opener is found" },
  args: { ...commonArgs },
  async run({ args }) {
    await openPage(resolveProject(args));
  },
});
