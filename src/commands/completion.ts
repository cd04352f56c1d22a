/**
 * `cslr completion bash|zsh|fish`: prints a completion script generated from the command table
 * (src/completion/), so a new command or option completes without anyone editing a script.
 */
import { defineCommand } from "citty";
import pkg from "../../package.json" with { type: "json" };
import { logArgs } from "../args.ts";
import { UsageError } from "../errors.ts";
import { completionSpec, shells, type Shell } from "../completion/spec.ts";
import { rootOf } from "../dispatch.ts";

export function parseShell(word: string | undefined): Shell {
  if (word !== undefined && (shells as readonly string[]).includes(word)) return word as Shell;
  if (word === undefined) throw new UsageError(`cslr completion: expected a shell, one of: ${shells.join(", ")} (like \`source <(cslr completion bash)\`)`);
  throw new UsageError(`cslr completion: unknown shell "${word}"; expected one of: ${shells.join(", ")}`);
}

export default defineCommand({
  meta: { name: "completion", description: "Print the shell completion script: source <(cslr completion bash), or zsh, fish" },
  args: {
    ...logArgs,
    shell: { type: "positional", required: false, description: "bash, zsh or fish", valueHint: "SHELL" },
  },
  async run({ args, data }) {
    const shell = parseShell(args._[0] === undefined ? undefined : String(args._[0]));
    const spec = await completionSpec(rootOf(data), pkg.name, pkg.version);
    const render = {
      bash: () => import("../completion/bash.ts").then((m) => m.bashScript(spec)),
      zsh: () => import("../completion/zsh.ts").then((m) => m.zshScript(spec)),
      fish: () => import("../completion/fish.ts").then((m) => m.fishScript(spec)),
    }[shell];
    process.stdout.write(await render());
  },
});
