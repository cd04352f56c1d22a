/**
 * `cslr secrets rotate`: new random values in `.env`. POSTGRES_PASSWORD is also stored in
 * PostgreSQL's data, so it is changed there first (ALTER ROLE through `docker compose exec`),
 * and `.env` only afterwards: MLflow is never handed a password the database does not know.
 */
import type { Model } from "../config/model.ts";
import type { SecretName } from "../config/secrets.ts";
import { CslrError } from "../errors.ts";
import { log } from "../log.ts";
import { psArgs } from "../compose/argv.ts";
import { parsePs } from "../compose/ps.ts";
import type { Session } from "../stack/session.ts";
import type { ComposeDoc } from "../compose/target.ts";
import { describeData, postgresData, postgresDataExists } from "./postgres-data.ts";
import { engineOf } from "../compose/networks.ts";

export const postgresService = "mlflow-postgres";

/** The compose services whose environment refers to `${NAME…}`: a new value reaches them only when they are recreated. */
export function servicesUsing(doc: ComposeDoc, name: string): string[] {
  const reference = `\${${name}`;
  return Object.entries(doc.services ?? {})
    .filter(([, service]) => {
      const env: unknown = service?.environment;
      const values = Array.isArray(env) ? env : Object.values((env as Record<string, unknown> | undefined) ?? {});
      return values.some((v) => String(v).includes(reference));
    })
    .map(([service]) => service);
}

/** What else changes hands with a secret, beyond the services of this stack. */
export function rotationNote(name: SecretName, model: Model): string | undefined {
  const joined = model.network.mode === "host" ? "; workstations that joined hold the old one: run `cslr join` on each again" : "";
  switch (name) {
    case "POSTGRES_PASSWORD":
      return "MLflow cannot open new connections to PostgreSQL until it is recreated";
    case "REDIS_PASSWORD":
      return "Redis clients outside the stack need the new password";
    case "MARIMO_TOKEN":
      return "open Marimo with the new token";
    case "CSLR_CLUSTER_TOKEN":
      return `once the election service is recreated it refuses the old token${joined}`;
    case "RAY_AUTH_TOKEN":
      return `Ray clients need the new token (\`cslr run\` reads it from .env)${joined}`;
    case "RAY_REDIS_PASSWORD":
      // Compose copies a secret into a container when it creates it: a new value needs new Ray containers.
      return `Ray nodes read it as a file when their containers are created: run \`cslr down\` then \`cslr up -d\` (compose does not recreate a container for a changed secret file)${joined}`;
  }
}

/** The statement that sets the role's password; names are schema-checked, values letters and digits only. */
export function alterRoleSql(user: string, password: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(user)) throw new Error(`not a PostgreSQL role name: ${user}`);
  if (!/^[A-Za-z0-9]+$/.test(password)) throw new Error("a rotated password is letters and digits only");
  return `ALTER ROLE "${user}" WITH PASSWORD '${password}';\n`;
}

export type PostgresRotation = "altered" | "no data yet" | "disabled";

/**
 * Sets the password of MLflow's role inside PostgreSQL to `password`. With no data yet there is
 * nothing to change (PostgreSQL takes `.env`'s value when it first starts). With data and
 * PostgreSQL stopped, it is started alone for the change and stopped again. `session.target`
 * must hand compose the new value (the caller sets it), so a container created here has it.
 */
export async function rotatePostgresPassword(session: Session, model: Model, password: string): Promise<PostgresRotation> {
  const s = model.config.services;
  const data = postgresData(
    { project: model.project.name, enabled: s.mlflow.enabled && s.mlflow.postgres.enabled, dataPath: s.mlflow.postgres.data_path },
    session.paths.dir,
  );
  if (!data) return "disabled";
  const { compose } = session;
  const running = parsePs(await compose.captureOk(psArgs({ json: true, services: [postgresService] }))).some(
    (r) => r.service === postgresService && r.state === "running",
  );
  if (!running) {
    const exists = await postgresDataExists(data, engineOf(compose.tool));
    if (exists === false) return "no data yet";
    log.start(`starting ${postgresService} alone to change the password in ${describeData(data)}`);
    const up = await compose.capture(["up", "--detach", "--wait", postgresService]);
    if (up.code !== 0) throw new CslrError(manualSteps(session, model, `${postgresService} did not start (${lastLine(up.stderr)})`));
  }
  try {
    const { user, database } = s.mlflow.postgres;
    const result = await compose.capture(["exec", "-T", postgresService, "psql", "-v", "ON_ERROR_STOP=1", "-q", "-U", user, "-d", database], {
      stdin: alterRoleSql(user, password),
    });
    if (result.code !== 0)
      throw new CslrError(manualSteps(session, model, `ALTER ROLE in ${postgresService} failed (${lastLine(result.stderr || result.stdout)})`));
  } finally {
    if (!running) await compose.capture(["stop", postgresService]);
  }
  return "altered";
}

function lastLine(text: string): string {
  return text.trim().split("\n").filter(Boolean).at(-1) ?? "no output";
}

/** The change by hand, when cslr could not make it: nothing was changed, and this is how. */
function manualSteps(session: Session, model: Model, why: string): string {
  const { user, database } = model.config.services.mlflow.postgres;
  return (
    `${why}; nothing was changed. By hand: start PostgreSQL (\`cslr up -d ${postgresService}\`), set a new password with ` +
    `\`cslr exec ${postgresService} psql -U ${user} -d ${database} -c '\\password ${user}'\`, put the same value as POSTGRES_PASSWORD= in ${session.paths.envFile}, then \`cslr up -d\``
  );
}
