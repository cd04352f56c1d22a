/**
 * citty does not hand a subcommand's `run()` result back to the caller, so commands that
 * return an exit code (e.g. `generate --check` → 1) are wrapped to record it here.
 */
import type { CommandDef, Resolvable, SubCommandsDef } from "citty";

let recorded: unknown;

export function takeRecordedResult(): unknown {
  const value = recorded;
  recorded = undefined;
  return value;
}

async function resolve<T>(value: Resolvable<T>): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

/** Wraps a command (and, lazily, its subcommands) so each `run()` result is recorded. */
export function recordingResults(def: CommandDef<any>): CommandDef<any> {
  const wrapped: CommandDef<any> = { ...def };
  if (def.run) {
    const run = def.run;
    wrapped.run = async (ctx) => {
      recorded = await run(ctx);
      return recorded;
    };
  }
  if (def.subCommands) {
    const subCommands = def.subCommands;
    wrapped.subCommands = async () => {
      const subs = await resolve(subCommands);
      const out: SubCommandsDef = {};
      for (const [name, sub] of Object.entries(subs)) out[name] = async () => recordingResults(await resolve(sub));
      return out;
    };
  }
  return wrapped;
}
