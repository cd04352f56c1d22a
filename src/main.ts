#!/usr/bin/env bun
/**
 * The binary's entry: answers `--version` from the package metadata alone, and loads the CLI
 * (citty, consola, the command table) only for everything else, so the fastest path stays
 * close to the runtime's own start-up (`bun run bench` measures both).
 */
import pkg from "../package.json" with { type: "json" };

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v" || argv[0] === "version")) {
  process.stdout.write(`${pkg.version}\n`);
} else {
  // No top-level await: the compiled binary is bytecode-compiled, which needs a CommonJS-shaped entry.
  void import("./cli.ts")
    .then(({ run }) => run(argv))
    .then((code) => {
      process.exitCode = code;
    });
}
