/**
 * `cslr open`: opens the lab page (the election service's `/`) in the browser with xdg-open
 * (Linux) or open (macOS); without an opener it prints the address. Never puts the cluster
 * token in the URL: the page asks for it.
 */
import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { loadProject, resolveProject } from "../config/load.ts";
import { resolveHostAddress } from "../host/address.ts";
import { log } from "../log.ts";
import { stackFactsOfModel } from "../status/stack.ts";
import { pageUrlOf } from "../status/view.ts";
import { CslrError } from "../errors.ts";
import { openInBrowser } from "../host/opener.ts";

export default defineCommand({
  meta: { name: "open", description: "Open the lab page (cluster, GPUs, jobs, history) in the browser; prints its address when no browser opener is found" },
  args: { ...commonArgs },
  async run({ args }) {
    const model = await loadProject(resolveProject(args));
    const stack = stackFactsOfModel(model);
    const address = (await resolveHostAddress(stack.hostAddress, stack.coordinatorHost)) ?? "127.0.0.1";
    const url = pageUrlOf(stack, address);
    if (!url) throw new CslrError(`no lab page here: the election service runs neither on ${stack.hostName} nor at a known address (services.health, election.url)`);
    const opened = await openInBrowser(url);
    if (opened) log.info(`opened ${url} (sign in with CSLR_CLUSTER_TOKEN from .env)`);
    else process.stdout.write(`${url}\n`);
  },
});
