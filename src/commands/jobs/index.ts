/**
 * `cslr jobs [--json]`, `cslr jobs logs ID [-f]`, `cslr jobs stop ID`
 * `makeJobsCommand(resolveTarget)` takes the head lookup.
 */
import { defineCommand } from "citty";
import type { ResolveTarget } from "../../jobs/cli-io.ts";
import { makeListCommand } from "./list.ts";
import { makeLogsCommand } from "./logs.ts";
import { makeStopCommand } from "./stop.ts";

export function makeJobsCommand(resolveTarget?: ResolveTarget) {
  const list = makeListCommand(resolveTarget);
  return defineCommand({
    meta: { name: "jobs", description: "The cluster's Ray jobs: list them, show or follow a log, stop one" },
    args: list.args,
    subCommands: { list, logs: makeLogsCommand(resolveTarget), stop: makeStopCommand(resolveTarget) },
    // `cslr jobs [--json]` is `cslr jobs list`; citty also runs a parent's own `run` after a
    // subcommand, so the parent has none.
    default: "list",
  });
}

export default makeJobsCommand((options) => import("../../jobs/project-target.ts").then((m) => m.projectTarget(options)));
