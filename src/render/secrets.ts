/**
 * How generated files refer to a secret: `${VAR:?...}`, so no secret value is ever written into
 * `_build/`, and compose itself refuses to start without one.
 */
import type { SecretName } from "../config/secrets.ts";

/** `${NAME:?...}`: compose fails with this text when the variable is unset or empty. */
export function secretReference(name: SecretName): string {
  return `\${${name}:?${name} is not set: run cslr init to create .env}`;
}
