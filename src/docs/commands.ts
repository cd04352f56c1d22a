/**
 * Pure: docs/commands.md's reference, drawn from the command table (each command's citty meta
 * and args) so it cannot drift from what the binary accepts. `bun scripts/docs.ts` writes it;
 * a test fails when the file is stale. The root command is passed in: this module imports no
 * command, so it stays below them.
 */
import type { ArgDef, CommandDef } from "citty";
import { logArgs, projectArgs } from "../args.ts";
import { resolveValue } from "../dispatch.ts";

type AnyCommand = CommandDef<any>;

/** One command as the reference shows it, hidden ones (`__services`) left out. */
export interface DocumentedCommand {
  path: string[];
  description: string;
  args: Record<string, ArgDef>;
  subcommands: string[];
  hasDefault: boolean;
}

/** Walks the command table from the root, depth first, in the table's order. */
export async function documentedCommands(root: AnyCommand): Promise<DocumentedCommand[]> {
  const out: DocumentedCommand[] = [];
  async function visit(command: AnyCommand, path: string[]): Promise<void> {
    const subs = command.subCommands ? await resolveValue(command.subCommands) : {};
    const children: [string, AnyCommand][] = [];
    for (const [name, sub] of Object.entries(subs)) {
      const child = await resolveValue(sub);
      if ((await resolveValue(child.meta ?? {})).hidden) continue;
      children.push([name, child]);
    }
    if (path.length > 0) {
      const meta = await resolveValue(command.meta ?? {});
      const args = (await resolveValue(command.args ?? {})) as Record<string, ArgDef>;
      const subcommands = children.map(([name]) => name);
      out.push({ path, description: meta.description ?? "", args, subcommands, hasDefault: command.default !== undefined });
    }
    for (const [name, child] of children) await visit(child, [...path, name]);
  }
  await visit(root, []);
  return out;
}

/** The shared options (project and verbosity), documented once above the reference rather than under every command. */
const sharedDefs = new Set<ArgDef>([...Object.values(projectArgs), ...Object.values(logArgs)]);

function aliasesOf(def: ArgDef): string[] {
  return "alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
}

function flagCell(name: string, def: ArgDef): string {
  const names = [...aliasesOf(def).map((a) => (a.length === 1 ? `-${a}` : `--${a}`)), `--${name}`];
  if (def.type === "boolean" && def.default === true) names.push(`--no-${name}`);
  const value = def.type === "boolean" ? "" : ` ${def.valueHint ?? "VALUE"}`;
  return names.map((n) => `\`${n}${n.startsWith("--no-") ? "" : value}\``).join(", ");
}

function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** `cslr up [OPTIONS] [SERVICE...]`: what a user types, positionals named by their value hints. */
export function usageLine(command: DocumentedCommand): string {
  const words = ["cslr", ...command.path];
  const options = Object.values(command.args).some((d) => d.type !== "positional");
  // A command with a default subcommand (`cslr jobs` is `cslr jobs list`) runs without one.
  if (command.subcommands.length > 0) words.push(command.hasDefault ? "[COMMAND]" : "COMMAND");
  if (options) words.push("[OPTIONS]");
  for (const [name, def] of Object.entries(command.args)) {
    if (def.type !== "positional") continue;
    const hint = def.valueHint ?? name.toUpperCase();
    words.push(def.required ? hint : `[${hint}]`);
  }
  return words.join(" ");
}

function optionRows(command: DocumentedCommand): string[] {
  const rows: string[] = [];
  for (const [name, def] of Object.entries(command.args)) {
    if (def.type === "positional" || sharedDefs.has(def)) continue;
    const fallback = def.default === undefined || def.default === false ? "" : `\`${String(def.default)}\``;
    rows.push(`| ${flagCell(name, def)} | ${fallback} | ${escapeCell(def.description ?? "")} |`);
  }
  return rows;
}

function sharedNote(command: DocumentedCommand): string | undefined {
  const defs = new Set(Object.values(command.args));
  const project = Object.values(projectArgs).every((d) => defs.has(d));
  const log = Object.values(logArgs).every((d) => defs.has(d));
  if (project && log) return "Also takes the [project options](#options-every-command-shares), `--verbose` and `--quiet`.";
  if (project) return "Also takes the [project options](#options-every-command-shares).";
  return log ? "Also takes `--verbose` and `--quiet`." : undefined;
}

/** One command's section: its heading, description, usage, arguments and own options. */
export function commandSection(command: DocumentedCommand): string {
  const out = [`### \`cslr ${command.path.join(" ")}\``, "", command.description, "", "```", usageLine(command), "```", ""];
  const positionals = Object.entries(command.args).filter(([, def]) => def.type === "positional");
  for (const [name, def] of positionals) out.push(`- \`${def.valueHint ?? name.toUpperCase()}\`: ${def.description ?? ""}`);
  if (command.subcommands.length > 0) out.push(`- subcommands: ${command.subcommands.map((s) => `\`${s}\``).join(", ")}`);
  if (positionals.length > 0 || command.subcommands.length > 0) out.push("");
  const rows = optionRows(command);
  if (rows.length > 0) out.push("| option | default | meaning |", "|---|---|---|", ...rows, "");
  const note = sharedNote(command);
  if (note) out.push(note, "");
  return out.join("\n");
}

/** The whole generated reference: a one-line index, then every command's section. */
export function commandsReference(commands: DocumentedCommand[]): string {
  const index = commands.map((c) => `| [\`cslr ${c.path.join(" ")}\`](#${anchorOf(c)}) | ${escapeCell(c.description)} |`);
  const sections = commands.map(commandSection);
  return ["| command | what it does |", "|---|---|", ...index, "", ...sections].join("\n").trimEnd();
}

/** GitHub's heading anchor for "`cslr jobs logs`": lower case, punctuation dropped, spaces to dashes. */
function anchorOf(command: DocumentedCommand): string {
  return `cslr-${command.path.join("-")}`.toLowerCase().replace(/[^a-z0-9_-]/g, "");
}

/** The README's one line per command: the top-level commands, each linked to its section in docs/commands.md. */
export function commandsSummary(commands: DocumentedCommand[]): string {
  const lines = commands
    .filter((c) => c.path.length === 1)
    .map((c) => {
      const subs = c.subcommands.length > 0 ? ` (${c.subcommands.map((s) => `\`${s}\``).join(", ")})` : "";
      return `- [\`cslr ${c.path[0]}\`](docs/commands.md#${anchorOf(c)})${subs}: ${c.description}`;
    });
  return lines.join("\n");
}
