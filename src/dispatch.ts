/**
 * The strict dispatcher: walks the words down the command tree it is given, and checks every
 * word against the command's arguments, so an unknown command or flag is exit 2 with a
 * did-you-mean before any command runs, and a flag's value never slides into the positionals.
 * It takes the root command as a parameter (cli.ts passes it, and hands it on to commands as
 * citty's `data`), so `help` and `completion` use it without importing cli.ts.
 */
import { defineCommand, showUsage, type ArgDef, type CommandDef } from "citty";
import pkg from "../package.json" with { type: "json" };
import { projectArgs } from "./args.ts";
import { closestMatch } from "./config/suggest.ts";
import { UsageError } from "./errors.ts";

export type AnyCommand = CommandDef<any>;

/** Commands whose words after the first positional belong to another program (`cslr exec SERVICE CMD...`). */
const passthroughAfterFirstPositional = new Set(["exec"]);

export async function resolveValue<T>(value: T | (() => T | Promise<T>) | Promise<T>): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

export interface ResolvedCommand {
  /** Command names from the root, like ["health", "serve"]. */
  path: string[];
  command: AnyCommand;
  parent?: AnyCommand;
  /** The words after the command's name. */
  args: string[];
}

/** Walks the words down the subcommand tree; an unknown word where a subcommand is due is bad usage. */
export async function resolveCommand(root: AnyCommand, rawArgs: string[]): Promise<ResolvedCommand> {
  let command: AnyCommand = root;
  let parent: AnyCommand | undefined;
  const path: string[] = [];
  let rest = rawArgs;
  for (;;) {
    const subs = command.subCommands ? await resolveValue(command.subCommands) : undefined;
    // `cslr jobs --address URL logs ID`: URL is --address's value, not a subcommand; the
    // project's flags may come before the command, as compose's -f does
    // (`cslr --config lab/config.yaml up`): their values are not commands either.
    const index = firstPositional(rest, flagTable({ ...projectArgs, ...(await resolveValue(command.args ?? {})) }));
    const word = index >= 0 ? rest[index] : undefined;
    if (!subs || word === undefined) break;
    const next = subs[word];
    if (!next) {
      // A command with both subcommands and its own run takes positionals (`cslr jobs logs ID`).
      if (command.run) break;
      // `__name` commands are for shell completion only (hidden from help): never offered.
      const names = Object.keys(subs).filter((n) => !n.startsWith("__"));
      const suggestion = closestMatch(word, names);
      const where = path.length > 0 ? `cslr ${path.join(" ")}` : "cslr";
      throw new UsageError(`${where}: unknown command "${word}"; ${suggestion ? `did you mean "${suggestion}"?` : `expected one of: ${names.join(", ")}`}`);
    }
    parent = command;
    command = await resolveValue(next);
    path.push(word);
    rest = [...rest.slice(0, index), ...rest.slice(index + 1)];
  }
  return { path, command, parent, args: rest };
}

interface FlagSpec {
  name: string;
  def: ArgDef;
}

export function flagTable(args: Record<string, ArgDef>): Map<string, FlagSpec> {
  const table = new Map<string, FlagSpec>();
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    table.set(name, { name, def });
    const aliases = "alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const alias of aliases) table.set(alias, { name, def });
  }
  return table;
}

/** Is `words[i]` an option that takes its value from the next word (`--tail 10`, not `--tail=10`)? */
function takesNextWord(word: string, table: Map<string, FlagSpec>): boolean {
  if (!word.startsWith("-") || word === "-" || word === "--" || word.includes("=")) return false;
  const spec = table.get(word.replace(/^--?/, ""));
  return spec !== undefined && spec.def.type !== "boolean";
}

/** A word that can be an option's value: not another option (a negative number is a value). */
function isValueWord(word: string | undefined): word is string {
  return word !== undefined && word !== "--" && (!word.startsWith("-") || word === "-" || /^-\d/.test(word));
}

/** Index of the first word that is neither an option nor an option's value; -1 when there is none before `--`. */
export function firstPositional(words: string[], table: Map<string, FlagSpec>): number {
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === "--") return -1;
    if (!word.startsWith("-") || word === "-") return i;
    if (takesNextWord(word, table) && isValueWord(words[i + 1])) i += 1;
  }
  return -1;
}

function positionalLimit(args: Record<string, ArgDef>): number {
  const positionals = Object.values(args).filter((d) => d.type === "positional");
  // A positional whose hint ends in "..." takes any number of words (SERVICE...).
  if (positionals.some((d) => d.valueHint?.endsWith("..."))) return Infinity;
  return positionals.length;
}

/**
 * Checks every word before `--` (or before a passed-through command) against the command's
 * arguments: unknown flags, flags missing their value and surplus positionals are bad usage.
 */
export function checkArgs(resolved: ResolvedCommand, args: Record<string, ArgDef>): void {
  const table = flagTable(args);
  const limit = positionalLimit(args);
  const where = `cslr ${resolved.path.join(" ")}`.trimEnd();
  const passthrough = passthroughAfterFirstPositional.has(resolved.path.join(" "));
  let positionals = 0;
  const words = resolved.args;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === "--") return;
    if (!word.startsWith("-") || word === "-") {
      if (passthrough) return;
      positionals += 1;
      if (positionals > limit) {
        throw new UsageError(
          `${where}: unexpected argument "${word}"; ${limit === 0 ? "this command takes no arguments" : `expected at most ${limit}`} (see \`${where} --help\`)`,
        );
      }
      continue;
    }
    const long = word.startsWith("--");
    const body = word.slice(long ? 2 : 1);
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const negated = long && name.startsWith("no-") && !table.has(name) ? name.slice(3) : undefined;
    const spec = table.get(negated ?? name);
    if (!spec || (!long && name.length !== 1)) {
      const known = [...new Set([...table.values()].map((s) => s.name))];
      // A one-letter flag is close to every short name: a guess would be noise.
      const suggestion = long ? closestMatch(negated ?? name, known) : undefined;
      throw new UsageError(
        `${where}: unknown option "${word.split("=")[0]}"; ${suggestion ? `did you mean "--${suggestion}"?` : known.length > 0 ? `expected one of: ${known.map((k) => `--${k}`).join(", ")}` : "this command takes no options"}`,
      );
    }
    if (negated !== undefined && spec.def.type !== "boolean") throw new UsageError(`${where}: --${negated} is not a switch; "--no-${negated}" means nothing`);
    if (spec.def.type === "boolean") {
      if (eq >= 0 && !["true", "false"].includes(body.slice(eq + 1))) {
        throw new UsageError(`${where}: ${word}: --${spec.name} is a switch; expected --${spec.name}, --no-${spec.name} or --${spec.name}=true|false`);
      }
      continue;
    }
    if (eq >= 0) continue;
    if (!isValueWord(words[i + 1])) {
      throw new UsageError(`${where}: --${spec.name} needs a value${spec.def.valueHint ? ` (${spec.def.valueHint})` : ""}`);
    }
    i += 1;
  }
}

/**
 * The words that are cslr's own: before `--`, and before a passed-through command (exec's CMD).
 * An option's value is read as its value, so `cslr exec --index 2 SERVICE CMD` keeps SERVICE.
 */
export function ownWords(resolved: ResolvedCommand, args: Record<string, ArgDef>): string[] {
  const passthrough = passthroughAfterFirstPositional.has(resolved.path.join(" "));
  const table = flagTable(args);
  const own: string[] = [];
  const words = resolved.args;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === "--" || (passthrough && (!word.startsWith("-") || word === "-"))) break;
    own.push(word);
    if (takesNextWord(word, table) && isValueWord(words[i + 1])) own.push(words[++i]!);
  }
  return own;
}

/** Is this a request for cslr's help? Not when `--help` belongs to a passed-through command. */
export function wantsHelp(resolved: ResolvedCommand, args: Record<string, ArgDef>): boolean {
  return ownWords(resolved, args).some((word) => word === "--help" || word === "-h");
}

/**
 * A command's help, as `--help` shows it. citty names a command by its parent's name and its
 * own (`jobs logs`); a stand-in parent named by the whole path makes it `cslr jobs logs`.
 */
export async function showHelp(resolved: ResolvedCommand): Promise<void> {
  if (resolved.path.length === 0) return showUsage(resolved.command);
  const parentMeta = resolved.parent ? await resolveValue(resolved.parent.meta) : undefined;
  const name = [pkg.name, ...resolved.path.slice(0, -1)].join(" ");
  await showUsage(resolved.command, defineCommand({ meta: { ...parentMeta, name, version: pkg.version } }));
}

/** What cli.ts hands every command as citty's `data`: the root, for the commands that walk the tree. */
export interface DispatchData {
  root: AnyCommand;
}

/** The root command from a command's `data` (set by cli.ts's run). */
export function rootOf(data: unknown): AnyCommand {
  const root = (data as Partial<DispatchData> | undefined)?.root;
  if (!root) throw new Error("the command tree's root was not passed to this command (run it through cli.ts)");
  return root;
}
