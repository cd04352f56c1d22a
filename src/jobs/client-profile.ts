/**
 * The client profile `cslr join --client` writes: what `cslr run` and `cslr jobs` need to use a
 * cluster from a machine that is not part of it (a laptop), outside any project folder. One
 * file, `$XDG_CONFIG_HOME/cslr/client.json` (default `~/.config/cslr/client.json`), mode 0600:
 * it holds Ray's token. Read strictly: a broken file is a one-line error naming it.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { z } from "zod";
import { isHttpUrl } from "../config/net.ts";
import { pinPattern } from "../election/tls.ts";
import { CslrError, UsageError } from "../errors.ts";

const port = z.int().min(1).max(65535);
const httpUrl = z
  .string()
  .max(300)
  .refine((v) => isHttpUrl(v), { message: "expected an http(s) URL" });

export const clientProfileSchema = z.strictObject({
  version: z.literal(1),
  /** The coordinator's election service: where the roster names the head. */
  coordinator: httpUrl,
  /** The project: the MLflow experiment jobs go to by default. */
  experiment: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/)
    .max(63),
  /** Dashboard (Jobs API) ports of the services that can be head. */
  dashboardPorts: z.strictObject({ "ray-cpu": port, "ray-gpu": port }),
  /** Ray's token, when the cluster uses token authentication. */
  rayToken: z
    .string()
    .regex(/^[A-Za-z0-9_-]{16,256}$/)
    .optional(),
  /** MLflow as the cluster's nodes reach it (the job's MLFLOW_TRACKING_URI). */
  mlflowTrackingUri: httpUrl.optional(),
  /** SHA-256 of the coordinator's certificate (from the join token): an HTTPS coordinator is trusted by it alone. */
  pin: z.string().regex(pinPattern).optional(),
});

export type ClientProfile = z.output<typeof clientProfileSchema>;

/** Where the profile lives for this environment (XDG_CONFIG_HOME, else ~/.config). */
export function clientProfilePath(env: Record<string, string | undefined> = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith("/") ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), ".config");
  return join(base, "cslr", "client.json");
}

/** The profile at `path`, undefined when there is none; a broken one is a UsageError naming the file and field. */
export function readClientProfile(path: string): ClientProfile | undefined {
  if (!existsSync(path)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`${path}: not JSON (${(error as Error).message.split("\n")[0]}); write it again with cslr join --client URL --token TOKEN`);
  }
  const parsed = clientProfileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`${path}: ${issue.path.join(".") || "(document)"}: ${issue.message}; write it again with cslr join --client URL --token TOKEN`);
  }
  return parsed.data;
}

/** Writes the profile atomically, 0600 in a 0700 folder (it holds Ray's token). */
export function writeClientProfile(path: string, profile: ClientProfile): void {
  const checked = clientProfileSchema.parse(profile);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(checked, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}

/** Which cluster a command outside a project means: --cluster, else CSLR_CLUSTER, else the profile's. */
export function clusterOf(flag: string | undefined, env: Record<string, string | undefined>, profile: ClientProfile | undefined): string | undefined {
  const named = flag ?? (env.CSLR_CLUSTER || undefined);
  if (named !== undefined && !httpUrl.safeParse(named).success)
    throw new UsageError(
      `${flag !== undefined ? "--cluster" : "CSLR_CLUSTER"} ${JSON.stringify(named)}: expected the coordinator's URL, like http://10.0.0.5:8888`,
    );
  return named ?? profile?.coordinator;
}

export function noClusterNamedError(cwd: string, profilePath: string): CslrError {
  return new UsageError(
    `no cslr project here (no config.yaml with nodes.yaml in ${cwd} or a folder above it) and no cluster named: run \`cslr join --client URL --token TOKEN\` once (writes ${profilePath}), or pass --cluster URL (or set CSLR_CLUSTER), or --address http://HEAD:8265`,
  );
}
