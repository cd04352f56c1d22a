#!/usr/bin/env bun
/**
 * The root of the CLI. citty holds the command definitions and renders help; dispatch is
 * strict (src/dispatch.ts): an unknown command or flag is exit 2 with a did-you-mean, before
 * any command runs, and a flag's value can never slide into the positionals.
 * Commands report their exit code one way: `process.exitCode`, or a thrown CslrError.
 */
import { defineCommand, runCommand } from "citty";
import pkg from "../package.json" with { type: "json" };
import { commands } from "./commands/index.ts";
import { checkArgs, ownWords, resolveCommand, resolveValue, showHelp, wantsHelp, type DispatchData } from "./dispatch.ts";
import { CslrError, ExitCode } from "./errors.ts";
import { setLogLevel } from "./log.ts";

export const main = defineCommand({
  meta: { name: pkg.name, version: pkg.version, description: pkg.description },
  subCommands: commands,
});

/** Runs the CLI and returns the process exit code; never throws. */
export async function run(rawArgs: string[]): Promise<number> {
  process.exitCode = 0;
  if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
    process.stdout.write(`${pkg.version}\n`);
    return ExitCode.ok;
  }
  const verbose = rawArgs.slice(0, rawArgs.includes("--") ? rawArgs.indexOf("--") : undefined).includes("--verbose");
  try {
    const resolved = await resolveCommand(main, rawArgs);
    const args = await resolveValue(resolved.command.args ?? {});
    const help = wantsHelp(resolved, args);
    if (resolved.path.length === 0 || help) {
      await showHelp(resolved);
      return help ? ExitCode.ok : ExitCode.usage;
    }
    checkArgs(resolved, args);
    const own = ownWords(resolved, args);
    setLogLevel({ verbose: own.includes("--verbose"), quiet: own.includes("--quiet") });
    const data: DispatchData = { root: main };
    await runCommand(resolved.command, { rawArgs: resolved.args, data });
  } catch (error) {
    process.exitCode = reportError(error, verbose);
  }
  return Number(process.exitCode ?? 0);
}

function reportError(error: unknown, verbose: boolean): number {
  if (error instanceof CslrError) {
    process.stderr.write(`${error.message}\n`);
    if (verbose && error.stack) process.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  if (error instanceof Error && error.name === "CLIError") {
    process.stderr.write(`cslr: ${error.message}\nRun \`cslr --help\` for usage.\n`);
    return ExitCode.usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`cslr: unexpected error: ${message}\n`);
  if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return ExitCode.failure;
}

if (import.meta.main) {
  // Run from source (`bun src/cli.ts`); the binary enters through src/main.ts.
  void run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
