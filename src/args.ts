import type { ArgDef } from "citty";

/** Arguments every command that reads the project accepts. */
export const projectArgs = {
  config: {
    type: "string",
    description: "Path to config.yaml",
    default: "./config.yaml",
    valueHint: "FILE",
  },
  nodes: {
    type: "string",
    description: "Path to nodes.yaml",
    default: "./nodes.yaml",
    valueHint: "FILE",
  },
  out: {
    type: "string",
    description: "Folder for generated files",
    default: "./_build",
    valueHint: "DIR",
  },
} as const satisfies Record<string, ArgDef>;

/** Output verbosity, accepted by every command. */
export const logArgs = {
  verbose: { type: "boolean", description: "Show debug output and full error traces" },
  quiet: { type: "boolean", description: "Show only warnings and errors" },
} as const satisfies Record<string, ArgDef>;

export const commonArgs = { ...projectArgs, ...logArgs } as const;
