/**
 * `cslr run`'s option values, checked before anything touches the network (pure). Every
 * problem is a UsageError (exit 2): one line naming the option, the value and what is expected.
 */
import { UsageError } from "../errors.ts";

/**
 * Every value of a repeatable option before `--` (`--env A=1 --env=B=2`): citty keeps only the
 * last one.
 */
export function repeatedOption(rawArgs: readonly string[], name: string): string[] {
  const values: string[] = [];
  const end = rawArgs.indexOf("--");
  const args = end < 0 ? rawArgs : rawArgs.slice(0, end);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === `--${name}`) {
      const value = args[i + 1];
      if (value === undefined) throw new UsageError(`--${name}: expected a value after it`);
      values.push(value);
      i++;
    } else if (arg.startsWith(`--${name}=`)) {
      values.push(arg.slice(name.length + 3));
    }
  }
  return values;
}

/** The command after `--`; cslr's own options come before it. */
export function commandAfterDashDash(rawArgs: readonly string[]): string[] {
  const at = rawArgs.indexOf("--");
  const command = at < 0 ? [] : rawArgs.slice(at + 1);
  if (command.length === 0) {
    throw new UsageError("cslr run: no command to run; put it after --, like cslr run -- python train.py");
  }
  return command;
}

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `--env K=V` pairs, in order. The value may contain `=`; an empty value is allowed. */
export function parseEnvPairs(values: readonly string[]): [string, string][] {
  return values.map((pair) => {
    const at = pair.indexOf("=");
    const key = at < 0 ? pair : pair.slice(0, at);
    if (at < 0 || !envName.test(key)) {
      throw new UsageError(`--env ${pair}: expected NAME=VALUE with NAME made of letters, digits and _ (not starting with a digit)`);
    }
    return [key, pair.slice(at + 1)];
  });
}

/** `--cpus 2`, `--gpus 0.5`: a number of at least 0 (Ray accepts fractions). */
export function parseResourceAmount(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const amount = /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(amount)) throw new UsageError(`${option} ${value}: expected a number like 1, 2 or 0.5`);
  return amount;
}

const unitFactor: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/**
 * `--memory 8g`: bytes for `entrypoint_memory`, which Ray wants as an integer. Same units as
 * the memory keys of config.yaml (Docker's: b, k, m, g, t; 1024-based; optional trailing b or ib).
 */
export function parseMemory(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?\s*$/i.exec(value);
  const bytes = match ? Math.round(Number(match[1]) * unitFactor[match[2]!.toLowerCase()]!) : Number.NaN;
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`--memory ${value}: expected a size like 512m, 8g or 8GiB`);
  return bytes;
}

/**
 * `--name PREFIX`: the submission id's prefix. The id becomes part of a file name on the head
 * (`job-driver-<id>.log`, common.py JOB_LOGS_PATH_TEMPLATE) and of URLs, so it is kept to
 * letters, digits, `-` and `_`.
 */
export function parseNamePrefix(value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$/.test(value)) {
    throw new UsageError(`--name ${value}: expected up to 48 letters, digits, - and _, starting with a letter or digit`);
  }
  return value;
}

/** `--experiment NAME`: MLflow accepts any non-empty name. */
export function parseExperiment(value: string | undefined, fallback: string): string {
  const name = value ?? fallback;
  if (name.trim() === "") throw new UsageError("--experiment: expected a non-empty MLflow experiment name");
  return name;
}
