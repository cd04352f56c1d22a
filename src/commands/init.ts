import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { defineCommand } from "citty";
import { logArgs } from "../args.ts";
import { embeddedExamples } from "../config/load.ts";
import { schemaFiles } from "../config/json-schema.ts";
import { log } from "../log.ts";
import { withMissingSecrets } from "../config/dotenv.ts";
import { CslrError } from "../errors.ts";
import { pinOfPem } from "../election/tls.ts";
import { createSelfSignedCertificate } from "../election/x509.ts";
import { describeData, postgresData, postgresDataExists, postgresPlacementOf } from "../secrets/postgres-data.ts";

/**
 * A new POSTGRES_PASSWORD does not reach PostgreSQL data that already exists: the old one was
 * written into it when PostgreSQL first started, and MLflow would be locked out. Refuses,
 * writing no secret, and names the data and the ways out. Says so when it cannot tell.
 */
async function refuseOverExistingData(configPath: string, envPath: string): Promise<void> {
  const data = postgresData(postgresPlacementOf(readFileSync(configPath, "utf8")), dirname(configPath));
  if (!data) return;
  const exists = await postgresDataExists(data);
  if (exists === undefined) {
    log.warn(
      `could not ask Docker whether ${describeData(data)} exists; if it holds PostgreSQL data, the new POSTGRES_PASSWORD will not match it (see \`cslr secrets rotate\`)`,
    );
    return;
  }
  if (!exists) return;
  throw new CslrError(
    `${envPath} has no POSTGRES_PASSWORD, but ${describeData(data)} holds PostgreSQL data whose password is the earlier one; a new one would lock MLflow out, so no secret was written. ` +
      "Restore the .env that belongs to it and run `cslr init` again; or keep the data and set a new password in it with `cslr secrets rotate POSTGRES_PASSWORD`, then `cslr init`; or delete the data (MLflow's runs with it) with `cslr down -v`, then `cslr init`",
  );
}

function writeUnlessPresent(path: string, content: string, force: boolean): boolean {
  if (existsSync(path) && !force) {
    log.info(`kept ${path} (exists; --force overwrites)`);
    return false;
  }
  writeFileSync(path, content);
  log.success(`wrote ${path}`);
  return true;
}

/**
 * The election service's certificate and key, made once and kept like the secrets: members pin
 * the certificate's hash, so a new one would lock every joined workstation out. The key is
 * written 0600 and only the health container mounts it.
 */
function ensureElectionCertificate(certPath: string, keyPath: string): void {
  const haveCert = existsSync(certPath);
  const haveKey = existsSync(keyPath);
  if (haveCert && haveKey) {
    chmodSync(keyPath, 0o600);
    log.info(`kept ${certPath} (the election service's certificate; workstations that joined pin it)`);
    return;
  }
  if (haveCert !== haveKey) {
    throw new CslrError(
      `${haveCert ? keyPath : certPath} is missing but ${haveCert ? certPath : keyPath} exists; restore it, or delete both to make a new pair (then every member joins again)`,
    );
  }
  const { cert, key } = createSelfSignedCertificate("cslr election service");
  writeFileSync(keyPath, key, { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  writeFileSync(certPath, cert, { mode: 0o644 });
  log.success(`wrote ${certPath} and ${keyPath} (mode 0600): the election service's certificate, sha256 ${pinOfPem(cert)}`);
}

export default defineCommand({
  meta: { name: "init", description: "Write config.yaml, nodes.yaml, .env (secrets) and the JSON Schemas" },
  args: {
    ...logArgs,
    config: { type: "string", description: "Path of config.yaml to write", default: "./config.yaml", valueHint: "FILE" },
    nodes: { type: "string", description: "Path of nodes.yaml to write (default: beside config.yaml)", valueHint: "FILE" },
    force: { type: "boolean", description: "Overwrite config.yaml and nodes.yaml (secrets in .env are never overwritten)" },
  },
  async run({ args }) {
    const configPath = resolve(args.config);
    const dir = dirname(configPath);
    writeUnlessPresent(configPath, embeddedExamples.config, Boolean(args.force));
    writeUnlessPresent(args.nodes !== undefined ? resolve(args.nodes) : join(dir, "nodes.yaml"), embeddedExamples.nodes, Boolean(args.force));
    for (const file of schemaFiles(dir)) writeFileSync(file.path, file.content);
    const envPath = join(dir, ".env");
    const existing = existsSync(envPath) ? readFileSync(envPath, "utf8") : "";
    const { text, added } = withMissingSecrets(existing);
    if (added.includes("POSTGRES_PASSWORD")) await refuseOverExistingData(configPath, envPath);
    if (added.length > 0) writeFileSync(envPath, text, { mode: 0o600 });
    if (existsSync(envPath)) chmodSync(envPath, 0o600);
    log.success(added.length > 0 ? `wrote ${added.join(", ")} to ${envPath} (mode 0600)` : `${envPath} already has every secret`);
    ensureElectionCertificate(join(dir, "election-cert.pem"), join(dir, "election-key.pem"));
    log.info("next: `cslr up -d` (or `cslr generate` to only render _build/)");
  },
});
