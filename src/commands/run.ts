/**
 * `cslr run [options] -- COMMAND...`: submits COMMAND to
 * the cluster as a Ray job through Ray's Jobs REST API and follows it. The core is
 * src/jobs/run.ts; this file maps arguments to it. `makeRunCommand(resolveTarget)` takes the
 * head lookup (the election roster), so wiring is one line in commands/index.ts.
 */
import { defineCommand, type ArgDef } from "citty";
import pkg from "../../package.json" with { type: "json" };
import { commonArgs } from "../args.ts";
import type { ResolveTarget } from "../jobs/cli-io.ts";
import { infoLine } from "../log.ts";

export const runArgs = {
  ...commonArgs,
  "working-dir": { type: "string", description: "Folder packed and shipped as the job's working directory", default: ".", valueHint: "DIR" },
  experiment: { type: "string", description: "MLflow experiment (default: the project name)", valueHint: "NAME" },
  env: { type: "string", description: "Environment variable for the job; repeatable", valueHint: "K=V" },
  cpus: { type: "string", description: "CPUs reserved for the entrypoint (Ray's entrypoint_num_cpus)", valueHint: "N" },
  gpus: { type: "string", description: "GPUs reserved for the entrypoint (Ray's entrypoint_num_gpus)", valueHint: "N" },
  memory: { type: "string", description: "Memory reserved for the entrypoint, like 8g (Ray's entrypoint_memory)", valueHint: "SIZE" },
  name: { type: "string", description: "Prefix of the submission id (default: raysubmit)", valueHint: "PREFIX" },
  detach: { type: "boolean", description: "Print the submission id and return without following" },
  address: { type: "string", description: "The head's dashboard URL, instead of looking it up", valueHint: "URL" },
  cluster: {
    type: "string",
    description: "The coordinator's URL, outside a project (default: $CSLR_CLUSTER, else the profile cslr join --client wrote)",
    valueHint: "URL",
  },
} as const satisfies Record<string, ArgDef>;

export function makeRunCommand(resolveTarget?: ResolveTarget) {
  return defineCommand({
    meta: { name: "run", description: "Run a command on the cluster as a Ray job and follow its log (Ctrl-C stops it)" },
    args: runArgs,
    async run({ args, rawArgs }) {
      const [options, { runJob }, io] = await Promise.all([import("../jobs/options.ts"), import("../jobs/run.ts"), import("../jobs/cli-io.ts")]);
      const command = options.commandAfterDashDash(rawArgs);
      const env = options.parseEnvPairs(options.repeatedOption(rawArgs, "env"));
      const cpus = options.parseResourceAmount("--cpus", args.cpus);
      const gpus = options.parseResourceAmount("--gpus", args.gpus);
      const memoryBytes = options.parseMemory(args.memory);
      const { defaultNamePrefix } = await import("../jobs/submit.ts");
      const namePrefix = options.parseNamePrefix(args.name, defaultNamePrefix);
      const target = await (resolveTarget ?? io.addressOnlyTarget)(args);
      const experiment = options.parseExperiment(args.experiment, target.projectName);
      const { readGitInfo } = await import("../jobs/git.ts");
      process.exitCode = await runJob(
        { workingDir: args["working-dir"], command, env, experiment, cpus, gpus, memoryBytes, namePrefix, detach: Boolean(args.detach) },
        target,
        io.clientFor(target, pkg.version),
        {
          writeLog: io.boundedLogWriter(process.stdout),
          say: (line) => process.stderr.write(`${line}\n`),
          info: infoLine,
          printId: (id) => process.stdout.write(`${id}\n`),
          logOnScreen: Boolean(process.stdout.isTTY),
          interrupts: io.processInterrupts,
          identity: io.whoAmI(),
          cslrVersion: pkg.version,
          git: readGitInfo,
        },
      );
    },
  });
}

export default makeRunCommand((options) => import("../jobs/project-target.ts").then((m) => m.projectTarget(options)));
