/**
 * `cslr open`: the lab page (the election service's `/`) in the browser, or its address printed
 * when this machine has no opener. Never the token in the URL: the page asks for it.
 */
import { loadProject, type ProjectPaths } from "../config/load.ts";
import { CslrError } from "../errors.ts";
import { resolveHostAddress } from "../host/address.ts";
import { openInBrowser } from "../host/opener.ts";
import { log } from "../log.ts";
import { stackFactsOfModel } from "../status/stack.ts";
import { pageUrlOf } from "../status/view.ts";

export async function openPage(paths: ProjectPaths): Promise<void> {
  const model = await loadProject(paths);
  const stack = stackFactsOfModel(model);
  const address = (await resolveHostAddress(stack.hostAddress, stack.coordinatorHost)) ?? "127.0.0.1";
  const url = pageUrlOf(stack, address);
  if (!url)
    throw new CslrError(`no lab page here: the election service runs neither on ${stack.hostName} nor at a known address (services.health, election.url)`);
  if (await openInBrowser(url)) log.info(`opened ${url} (sign in with CSLR_CLUSTER_TOKEN from .env)`);
  else process.stdout.write(`${url}\n`);
}
