/**
 * The use case of `cslr status`: what runs (compose ps), the election roster, and the addresses
 * to use, from the config or, when the config has problems, from the compose file that runs.
 */
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { psArgs } from "../compose/argv.ts";
import { parsePs } from "../compose/ps.ts";
import { sessionAt } from "./session.ts";
import { runningComposeFile } from "./generation.ts";
import { ConfigError } from "../config/config-error.ts";
import { readSecret } from "../config/dotenv.ts";
import { loadProject, type ProjectPaths } from "../config/load.ts";
import type { Model } from "../config/model.ts";
import { hostNameOf } from "../config/normalise.ts";
import { readCluster, readServiceVersion } from "../election/client.ts";
import { electionPin } from "../election/access.ts";
import { pinnedFetch } from "../election/tls.ts";
import pkg from "../../package.json" with { type: "json" };
import { resolveHostAddress } from "../host/address.ts";
import { formatJson } from "../json.ts";
import { log } from "../log.ts";
import { stackFactsOfCompose, stackFactsOfModel } from "../status/stack.ts";
import { buildStatus, renderStatus } from "../status/view.ts";

/** Exit codes of `cslr status` (documented in docs/commands.md and in --help). */
export const statusExit = { ready: 0, unreachable: 1, noReadyHead: 3 } as const;

/**
 * The config, or undefined with its problems printed as a warning when `_build/compose.yaml`
 * can stand in: status reports what runs, and the file that started it describes that.
 */
async function modelOrWarning(paths: ProjectPaths): Promise<Model | undefined> {
  try {
    return await loadProject(paths);
  } catch (error) {
    const running = runningComposeFile(paths);
    if (!(error instanceof ConfigError) || !existsSync(running)) throw error;
    log.warn(`the config has problems (fix them before \`cslr up\`); status is read from ${running}, which describes what runs:\n${error.message}`);
    return undefined;
  }
}

/**
 * `cslr status`: services, the Ray head and its workers, and the addresses to use, printed (or
 * as JSON); the exit code says whether a head is ready. `host` overrides the detected address.
 */
export async function showStatus(paths: ProjectPaths, options: { json?: boolean; host?: string }): Promise<void> {
  const model = await modelOrWarning(paths);
  const session = await sessionAt(paths, { secrets: "placeholders" });
  const stack = model ? stackFactsOfModel(model, electionPin(model, paths)) : stackFactsOfCompose(session.doc, hostNameOf(hostname()));
  const rows = parsePs(await session.compose.captureOk(psArgs({ json: true, all: true })));
  const clusterToken = readSecret(session.paths.envFile, "CSLR_CLUSTER_TOKEN");
  // The pinned client: nothing, the token least of all, goes to a server without the cluster's certificate.
  const fetcher = stack.electionPin ? pinnedFetch(stack.electionPin) : fetch;
  const [roster, serviceVersion] = await Promise.all([
    readCluster(stack.rosterUrl, { timeoutMs: 2000, token: clusterToken, fetch: fetcher }),
    readServiceVersion(stack.rosterUrl, { fetch: fetcher }),
  ]);

  const address = options.host ?? (await resolveHostAddress(stack.hostAddress, stack.coordinatorHost));
  if (!address) log.warn("no external address found for this host; showing 127.0.0.1 (set host.address, or pass --host)");
  const report = buildStatus({
    stack,
    projectName: session.target.projectName,
    address: address ?? "127.0.0.1",
    rows,
    roster,
    clusterToken,
    serviceVersion,
    cliVersion: pkg.version,
  });
  process.stdout.write(options.json ? formatJson(report) : renderStatus(report));
  process.exitCode = "error" in roster ? statusExit.unreachable : roster.roster.head?.ready ? statusExit.ready : statusExit.noReadyHead;
}
