/** Argument groups shared by commands, typed so their values reach `ctx.args`. */
import type { ArgDef } from "citty";

/**
 * Where the project is. No defaults here: `resolveProject` (config/load.ts) fills them in, and
 * needs to know whether a path was given (a missing named file is an error, never a silent default).
 */
export const projectArgs = {
  config: {
    type: "string",
    description: "Path to config.yaml (default: config.yaml here or in the nearest parent folder that has it with nodes.yaml)",
    valueHint: "FILE",
  },
  nodes: { type: "string", description: "Path to nodes.yaml (default: beside config.yaml)", valueHint: "FILE" },
  out: { type: "string", description: "Folder for generated files (default: _build beside config.yaml)", valueHint: "DIR" },
} as const satisfies Record<string, ArgDef>;

/** Output verbosity, accepted by every command. */
export const logArgs = {
  verbose: { type: "boolean", description: "Show debug output and full error traces" },
  quiet: { type: "boolean", description: "Show only warnings and errors" },
} as const satisfies Record<string, ArgDef>;

export const commonArgs = { ...projectArgs, ...logArgs } as const;

/** Every command that runs compose. */
export const composeArgs = {
  ...commonArgs,
  "dry-run": { type: "boolean", description: "Print the docker compose command line instead of running it" },
} as const satisfies Record<string, ArgDef>;

/** `-t/--timeout` of the commands that stop containers (down, stop, restart), as compose takes it. */
export const stopTimeoutArgs = {
  timeout: {
    type: "string",
    alias: "t",
    description: "Seconds each container gets to stop before it is killed (compose's default: 10; Ray nodes: 30)",
    valueHint: "SECONDS",
  },
} as const satisfies Record<string, ArgDef>;
