/**
 * What the shell completion scripts know, read from the command table once, when the script
 * is generated: each command's subcommands, its options (which take a value, and whether
 * that value is a file or a folder) and what its positionals are. The scripts are static, so
 * a Tab press runs nothing; only service names are read at completion time (`cslr
 * __services`), because they live in the project's `_build/compose.yaml`.
 */
import type { ArgDef, CommandDef } from "citty";

/** What an option's value is, so a shell can offer files or folders for it. */
export type ValueKind = "file" | "dir" | "text";

/** What a command's positionals are: services, then a command (exec), a shell, a command path (help), or nothing to offer. */
export type PositionalKind = "services" | "service-then-command" | "shell" | "command-path" | "none";

export interface OptionSpec {
  long: string;
  short?: string;
  takesValue: boolean;
  value: ValueKind;
  description: string;
}

export interface CommandSpec {
  /** Command names from the root, space-separated: "", "up", "jobs logs". */
  path: string;
  subcommands: { name: string; description: string }[];
  options: OptionSpec[];
  positional: PositionalKind;
}

export interface CompletionSpec {
  program: string;
  version: string;
  shells: readonly string[];
  commands: CommandSpec[];
}

export const shells = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof shells)[number];

type AnyCommand = CommandDef<any>;

async function resolved<T>(value: T | (() => T | Promise<T>) | Promise<T>): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

function valueKind(hint: string | undefined): ValueKind {
  return hint === "FILE" ? "file" : hint === "DIR" ? "dir" : "text";
}

function positionalKind(args: Record<string, ArgDef>): PositionalKind {
  const hints = Object.values(args)
    .filter((def) => def.type === "positional")
    .map((def) => def.valueHint);
  if (hints.includes("SERVICE...")) return "services";
  if (hints.includes("SERVICE CMD...")) return "service-then-command";
  if (hints.includes("SHELL")) return "shell";
  if (hints.includes("COMMAND...")) return "command-path";
  return "none";
}

/** A command's options as a shell offers them; a switch that is on by default also has its --no- form. */
export function optionsOf(args: Record<string, ArgDef>): OptionSpec[] {
  const options: OptionSpec[] = [];
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const aliases = "alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    const takesValue = def.type !== "boolean";
    const description = def.description ?? "";
    options.push({ long: name, short: aliases.find((a) => a.length === 1), takesValue, value: takesValue ? valueKind(def.valueHint) : "text", description });
    if (def.type === "boolean" && def.default === true)
      options.push({ long: `no-${name}`, takesValue: false, value: "text", description: `Turn off --${name}` });
  }
  options.push({ long: "help", short: "h", takesValue: false, value: "text", description: "Show this command's help" });
  return options;
}

/** Walks the command table from the root (loading every command); hidden commands are left out. */
export async function completionSpec(root: AnyCommand, program: string, version: string): Promise<CompletionSpec> {
  const commands: CommandSpec[] = [];
  async function visit(command: AnyCommand, path: string[]): Promise<void> {
    const args = (await resolved(command.args ?? {})) as Record<string, ArgDef>;
    const subs = command.subCommands ? await resolved(command.subCommands) : {};
    const children: { name: string; command: AnyCommand; description: string }[] = [];
    for (const [name, sub] of Object.entries(subs)) {
      const child = await resolved(sub);
      const meta = await resolved(child.meta ?? {});
      if (meta.hidden) continue;
      children.push({ name, command: child, description: meta.description ?? "" });
    }
    const options = optionsOf(args);
    if (path.length === 0) options.push({ long: "version", short: "v", takesValue: false, value: "text", description: "Print the version" });
    commands.push({
      path: path.join(" "),
      subcommands: children.map(({ name, description }) => ({ name, description })),
      options,
      positional: positionalKind(args),
    });
    for (const child of children) await visit(child.command, [...path, child.name]);
  }
  await visit(root, []);
  return { program, version, shells, commands };
}
