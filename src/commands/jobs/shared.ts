import type { ArgDef } from "citty";
import { logArgs } from "../../args.ts";
import type { JobsClient } from "../../jobs/client.ts";
import type { ResolveTarget } from "../../jobs/cli-io.ts";
import pkg from "../../../package.json" with { type: "json" };

export const jobsArgs = {
  ...logArgs,
  address: { type: "string", description: "The head's dashboard URL, instead of looking it up", valueHint: "URL" },
} as const satisfies Record<string, ArgDef>;

/** The client of the current head, loading the jobs modules only when a command runs. */
export async function headClient(resolveTarget: ResolveTarget | undefined, address: string | undefined): Promise<JobsClient> {
  const io = await import("../../jobs/cli-io.ts");
  const target = await (resolveTarget ?? io.addressOnlyTarget)({ address });
  return io.clientFor(target, pkg.version);
}
