#!/usr/bin/env bun
import { defineCommand, runCommand, showUsage, type CommandDef } from "citty";
import pkg from "../package.json" with { type: "json" };
import { commands } from "./commands/index.ts";
import { recordingResults, takeRecordedResult } from "./command-result.ts";
import { CslrError, ExitCode } from "./errors.ts";

export const main = defineCommand({
  meta: { name: pkg.name, version: pkg.version, description: pkg.description },
  subCommands: commands,
});

/** Walks rawArgs down the subcommand tree, for `--help` on a nested command. */
async function resolveForHelp(rawArgs: string[]): Promise<[CommandDef<any>, CommandDef<any> | undefined]> {
  let cmd: CommandDef<any> = main;
  let parent: CommandDef<any> | undefined;
  for (const arg of rawArgs) {
    if (arg.startsWith("-")) break;
    const subs = typeof cmd.subCommands === "function" ? await cmd.subCommands() : await cmd.subCommands;
    const next = subs?.[arg];
    if (!next) break;
    parent = cmd;
    cmd = typeof next === "function" ? await next() : await next;
  }
  return [cmd, parent];
}

function isUsageError(error: unknown): boolean {
  return error instanceof Error && error.name === "CLIError";
}

/**
 * Is this a request for cslr's help? Not when `--help` belongs to a passed-through command:
 * after `--` (`cslr compose -- config --help`) or after exec's SERVICE (`cslr exec svc cmd --help`).
 */
export function wantsHelp(rawArgs: string[]): boolean {
  const at = rawArgs.findIndex((a) => a === "--help" || a === "-h");
  if (at < 0) return false;
  const dashDash = rawArgs.indexOf("--");
  if (dashDash >= 0 && dashDash < at) return false;
  if (rawArgs[0] === "exec") {
    const positionals = rawArgs.slice(1, at).filter((a) => !a.startsWith("-"));
    if (positionals.length >= 1) return false;
  }
  return true;
}

/** Runs the CLI and returns the process exit code; never throws. */
export async function run(rawArgs: string[]): Promise<number> {
  if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
    process.stdout.write(`${pkg.version}\n`);
    return ExitCode.ok;
  }
  if (rawArgs.length === 0 || wantsHelp(rawArgs)) {
    const [cmd, parent] = await resolveForHelp(rawArgs);
    await showUsage(cmd, parent);
    return rawArgs.length === 0 ? ExitCode.usage : ExitCode.ok;
  }
  try {
    await runCommand(recordingResults(main), { rawArgs });
    const result = takeRecordedResult();
    return typeof result === "number" ? result : ExitCode.ok;
  } catch (error) {
    return reportError(error, rawArgs.includes("--verbose"));
  }
}

function reportError(error: unknown, verbose: boolean): number {
  if (error instanceof CslrError) {
    process.stderr.write(`${error.message}\n`);
    if (verbose && error.stack) process.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  if (isUsageError(error)) {
    process.stderr.write(`cslr: ${(error as Error).message}\nRun \`cslr --help\` for usage.\n`);
    return ExitCode.usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`cslr: unexpected error: ${message}\n`);
  if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return ExitCode.failure;
}

if (import.meta.main) {
  // No top-level await: the compiled binary is bytecode-compiled, which needs a CommonJS-shaped entry.
  void run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
