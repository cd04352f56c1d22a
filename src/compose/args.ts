import type { ArgDef } from "citty";
import { commonArgs } from "../args.ts";

/** Arguments of every command that runs compose. */
export const composeArgs = {
  ...commonArgs,
  "dry-run": { type: "boolean", description: "Print the docker compose command line instead of running it" },
} as const satisfies Record<string, ArgDef>;
