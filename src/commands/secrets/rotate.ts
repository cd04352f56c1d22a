/**
 * `cslr secrets rotate [NAME]`: a new random value for one secret (or every secret the config
 * uses) in `.env`, written atomically. POSTGRES_PASSWORD is first changed inside PostgreSQL.
 * Running containers keep the old value until they are recreated: the command names them.
 */
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { defineCommand } from "citty";
import { commonArgs } from "../../args.ts";
import { sessionAt } from "../../stack/session.ts";
import { readComposeFile } from "../../compose/target.ts";
import { randomSecret, withSecrets } from "../../config/dotenv.ts";
import { loadProject, resolveProject } from "../../config/load.ts";
import { requiredSecrets, secretNames, type SecretName } from "../../config/secrets.ts";
import { UsageError } from "../../errors.ts";
import { log } from "../../log.ts";
import { generateProject } from "../../render/generate.ts";
import { rotatePostgresPassword, rotationNote, servicesUsing } from "../../secrets/rotate.ts";

function chosenSecrets(name: string | undefined, required: SecretName[]): SecretName[] {
  if (name === undefined) return required.length > 0 ? required : [...secretNames];
  if (!(secretNames as readonly string[]).includes(name)) {
    throw new UsageError(`unknown secret "${name}"; expected one of: ${secretNames.join(", ")}`);
  }
  return [name as SecretName];
}

export default defineCommand({
  meta: {
    name: "rotate",
    description: "Give a secret in .env a new random value (all the config uses without NAME); POSTGRES_PASSWORD is changed inside PostgreSQL too",
  },
  args: {
    ...commonArgs,
    name: { type: "positional", required: false, description: `The secret: ${secretNames.join(", ")}`, valueHint: "NAME" },
  },
  async run({ args }) {
    const paths = resolveProject(args);
    const model = await loadProject(paths);
    const names = chosenSecrets(
      args.name,
      requiredSecrets(model).map((s) => s.name),
    );
    const fresh = Object.fromEntries(names.map((name) => [name, randomSecret()])) as Partial<Record<SecretName, string>>;

    // The new .env is written beside the old one first and renamed into place last: if
    // PostgreSQL refuses the change, .env is as it was.
    const existing = existsSync(paths.envFile) ? readFileSync(paths.envFile, "utf8") : "";
    const pending = `${paths.envFile}.${process.pid}.tmp`;
    writeFileSync(pending, withSecrets(existing, fresh), { mode: 0o600 });
    try {
      if (fresh.POSTGRES_PASSWORD) {
        // Compose needs the file that describes the stack; a project never brought up has none yet.
        if (!existsSync(paths.composeFile)) await generateProject(paths, { allowMissingSecrets: true });
        const session = await sessionAt(paths, { secrets: "placeholders" });
        session.target.env = { ...session.target.env, POSTGRES_PASSWORD: fresh.POSTGRES_PASSWORD };
        const outcome = await rotatePostgresPassword(session, model, fresh.POSTGRES_PASSWORD);
        if (outcome === "altered") log.success("changed the password of MLflow's role inside PostgreSQL");
        if (outcome === "no data yet") log.info("PostgreSQL has no data yet: it takes the new password when it first starts");
      }
      renameSync(pending, paths.envFile);
      chmodSync(paths.envFile, 0o600);
    } finally {
      rmSync(pending, { force: true });
    }
    log.success(`new ${names.join(", ")} in ${paths.envFile}`);
    report(paths.composeFile, names, model);
  },
});

/** Which containers still hold the old values, and what else has to follow. */
function report(composeFile: string, names: SecretName[], model: Awaited<ReturnType<typeof loadProject>>): void {
  const doc = existsSync(composeFile) ? readComposeFile(composeFile).doc : undefined;
  const services = new Set<string>();
  for (const name of names) {
    const users = doc ? servicesUsing(doc, name) : [];
    users.forEach((s) => services.add(s));
    const note = rotationNote(name, model);
    log.info(`${name}: ${users.length > 0 ? `used by ${users.join(", ")}` : "used by no service of this stack"}${note ? `; ${note}` : ""}`);
  }
  if (services.size > 0) {
    log.info(
      `running containers keep the old values until they are recreated: run \`cslr up -d\` (it recreates ${[...services].join(", ")}, the services whose environment changed)`,
    );
  }
}
