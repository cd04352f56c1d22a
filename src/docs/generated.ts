/**
 * Every generated part of the documentation, one list for the script that writes them
 * (`bun scripts/docs.ts`) and the test that fails when one is stale. Pure but for loading
 * the command table (lazily, as the CLI does); the root command is passed in, so this module
 * imports no command and stays below them.
 */
import type { CommandDef } from "citty";
import { configReference } from "../config/reference.ts";
import { commandsReference, commandsSummary, documentedCommands } from "./commands.ts";
import { withGenerated } from "./markers.ts";

export interface GeneratedDoc {
  /** Relative to the repository's root. */
  file: string;
  /** The file's text with its generated part brought up to date. */
  update: (text: string) => string;
}

export async function generatedDocs(root: CommandDef<any>): Promise<GeneratedDoc[]> {
  const commands = await documentedCommands(root);
  const reference = commandsReference(commands);
  const summary = commandsSummary(commands);
  const configuration = configReference();
  return [
    { file: "docs/configuration.md", update: (text) => withGenerated(text, "config-reference", configuration, "docs/configuration.md") },
    { file: "docs/commands.md", update: (text) => withGenerated(text, "commands-reference", reference, "docs/commands.md") },
    { file: "README.md", update: (text) => withGenerated(text, "commands-summary", summary, "README.md") },
  ];
}
