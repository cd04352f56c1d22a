import type { ArgDef } from "citty";
import { commonArgs } from "../../args.ts";
import type { JobsClient } from "../../jobs/client.ts";
import type { ResolveTarget, TargetOptions } from "../../jobs/cli-io.ts";
import pkg from "../../../package.json" with { type: "json" };

export const jobsArgs = {
  ...commonArgs,
  address: { type: "string", description: "The head's dashboard URL, instead of looking it up", valueHint: "URL" },
  cluster: {
    type: "string",
    description: "The coordinator's URL, outside a project (default: $CSLR_CLUSTER, else the profile cslr join --client wrote)",
    valueHint: "URL",
  },
} as const satisfies Record<string, ArgDef>;

/** The client of the current head, loading the jobs modules only when a command runs. */
export async function headClient(resolveTarget: ResolveTarget | undefined, options: TargetOptions): Promise<JobsClient> {
  const io = await import("../../jobs/cli-io.ts");
  const target = await (resolveTarget ?? io.addressOnlyTarget)(options);
  return io.clientFor(target, pkg.version);
}
