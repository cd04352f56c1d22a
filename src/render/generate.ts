/**
 * I/O edge of rendering: template overrides from ./templates, the cslr binary to mount, the
 * secrets check against .env, and the atomic write of `_build/`.
 */
import { existsSync, readFileSync } from "node:fs";
import { writeFilesAtomically } from "../files.ts";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { testHostAddress } from "./cluster-test.ts";
import { loadProject, type ProjectPaths } from "../config/load.ts";
import { advertisedHostAddressOf } from "../config/host-address.ts";
import { installCopy } from "../host/binary-store.ts";
import { hostNetworkExtraHosts, readHostsFile } from "../host/hosts-file.ts";
import type { Model } from "../config/model.ts";
import { UsageError } from "../errors.ts";
import { log } from "../log.ts";
import { templateNames } from "./engine.ts";
import { embeddedTemplateSet, renderBuild, type RenderedFile, type TemplateSet } from "./render.ts";
import { parseDotenv } from "../config/dotenv.ts";
import { requiredSecrets } from "../config/secrets.ts";
import { localCertificate } from "../election/access.ts";
import type { ElectionTls } from "./compose-data.ts";

/**
 * The file `cslr templates eject` writes beside the templates it ejected. Only a folder holding
 * it overrides the embedded templates: a `templates/` that happens to lie beside config.yaml
 * (cslr's own repository, a quick start in a checkout) is not the user's customisation.
 */
export const ejectedMarker = ".cslr-ejected";

/** Embedded templates, with `templates/NAME.eta` from an ejected folder (see ejectedMarker) on top, said on stderr. */
export function loadTemplateSet(dir: string): TemplateSet {
  const set = embeddedTemplateSet();
  const present = templateNames.filter((name) => existsSync(join(dir, `${name}.eta`)));
  if (present.length === 0) return set;
  if (!existsSync(join(dir, ejectedMarker))) {
    log.info(`${dir} has ${present.map((n) => `${n}.eta`).join(", ")} but no ${ejectedMarker} (written by cslr templates eject): using the embedded templates`);
    return set;
  }
  for (const name of present) {
    const override = join(dir, `${name}.eta`);
    log.info(`using template override ${override}`);
    set[name] = readFileSync(override, "utf8");
  }
  return set;
}

/** True when running as the `bun build --compile` binary rather than from source. */
export function isCompiledBinary(): boolean {
  return import.meta.path.startsWith("/$bunfs/") || import.meta.path.includes("~BUN");
}

/** The Linux cslr binary the containers run a copy of: configured, this binary, or the dev build. */
export function resolveCslrBinary(model: Model, projectDir: string): string {
  const configured = model.config.services.health.binary;
  if (configured) {
    const path = resolve(projectDir, configured);
    if (!existsSync(path)) throw new UsageError(`services.health.binary: ${path} does not exist; expected a Linux cslr binary`);
    return path;
  }
  if (process.platform === "linux" && isCompiledBinary()) return process.execPath;
  const devBuild = resolve(import.meta.dir, "../../dist/cslr");
  if (process.platform === "linux" && existsSync(devBuild)) return devBuild;
  throw new UsageError(
    process.platform === "linux"
      ? "services.health.binary: running from source and dist/cslr does not exist; run `bun run build` or set services.health.binary to a Linux cslr binary"
      : "services.health.binary: this host is not Linux; set it to a Linux cslr binary (from `bun run build:all`) for the health container",
  );
}

/** Every secret the enabled services need must be in .env (or the environment compose inherits). */
export function missingSecrets(model: Model, envFile: string, env: Record<string, string | undefined> = process.env): string[] {
  const dotenv = existsSync(envFile) ? parseDotenv(readFileSync(envFile, "utf8")) : new Map<string, string>();
  return requiredSecrets(model)
    .filter(({ name }) => !dotenv.get(name) && !env[name])
    .map(({ name, neededBy }) => `${name} (needed by ${neededBy})`);
}

export function assertSecretsPresent(model: Model, envFile: string): void {
  const missing = missingSecrets(model, envFile);
  if (missing.length > 0) {
    throw new UsageError(`${envFile}: missing ${missing.join(", ")}; run \`cslr init\` to create the secrets`);
  }
}

/** Writes `_build/` all or nothing: readers never see half a file. */
function writeBuildAtomically(outDir: string, files: RenderedFile[]): void {
  writeFilesAtomically(files.map((file) => ({ path: join(outDir, file.name), content: file.content, mode: file.mode })));
}

/** Names of files in `_build/` whose content differs from what would be generated now. */
export function staleFiles(outDir: string, files: RenderedFile[]): string[] {
  return files
    .filter((file) => {
      const path = join(outDir, file.name);
      return !existsSync(path) || readFileSync(path, "utf8") !== file.content;
    })
    .map((file) => file.name);
}

/**
 * The election service's certificate as the render needs it: its pin for the Ray nodes, and on
 * the coordinator the files the health container serves. Plain HTTP (asked for): undefined.
 */
export function electionTlsOf(model: Model, paths: ProjectPaths, options: { allowMissing?: boolean } = {}): ElectionTls | undefined {
  const runsHere = model.config.services.health.enabled;
  if (runsHere ? !model.config.services.health.tls : !model.election.url.startsWith("https:")) return undefined;
  if (!runsHere) return model.election.pin ? { pin: model.election.pin } : undefined;
  const local = localCertificate(paths);
  if (!local || !existsSync(paths.tlsKey)) {
    if (options.allowMissing) return { pin: "0".repeat(64), certFile: paths.tlsCert, keyFile: paths.tlsKey };
    throw new UsageError(
      `${local ? paths.tlsKey : paths.tlsCert}: missing; the election service speaks HTTPS with it (services.health.tls); run \`cslr init\` to create it`,
    );
  }
  return { pin: local.pin, certFile: paths.tlsCert, keyFile: paths.tlsKey };
}

export interface GenerateOptions {
  /** Skip the secrets check (for `--stdout` previews, which write nothing that runs). */
  allowMissingSecrets?: boolean;
  /** Render and compare, write nothing. */
  dryRun?: boolean;
}

export interface GeneratedProject {
  model: Model;
  paths: ProjectPaths;
  files: RenderedFile[];
  /** The store's copy of cslr the containers mount. */
  cslrBinary: string;
}

/** loadProject, then renders and atomically writes `_build/`; `_build/` is untouched on failure. */
export async function generateProject(paths: ProjectPaths, options: GenerateOptions = {}): Promise<GeneratedProject> {
  const model = await loadProject(paths);
  if (!options.allowMissingSecrets) assertSecretsPresent(model, paths.envFile);
  // The health container and every Ray container (the node agent) run the mounted cslr; so does the cluster test's worker.
  // Containers run cslr's own copy of it (src/host/binary-store.ts), never the downloaded file.
  const cslrBinary = await installCopy(resolveCslrBinary(model, paths.dir), pkg.version, { dryRun: options.dryRun });
  const hostAddress = testHostAddress(model, await advertisedHostAddressOf(model));
  const extraHosts = model.network.mode === "host" ? hostNetworkExtraHosts(readHostsFile(), hostname(), hostAddress) : [];
  const tls = electionTlsOf(model, paths, { allowMissing: options.allowMissingSecrets });
  const files = renderBuild({
    model,
    cslrBinary,
    projectDir: paths.dir,
    outDir: paths.out,
    hostAddress,
    hostNetworkExtraHosts: extraHosts,
    version: pkg.version,
    tls,
    templates: loadTemplateSet(join(paths.dir, "templates")),
  });
  if (!options.dryRun) writeBuildAtomically(paths.out, files);
  return { model, paths, files, cslrBinary };
}
