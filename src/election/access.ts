/**
 * How cslr on this host talks to the election service (status, up --wait, leave, doctor, run's
 * roster lookups): its URL and a fetch pinned to its certificate. The pin is nodes.yaml's
 * (a member's, from the join token) or the coordinator's own certificate's. Plain HTTP only
 * when the URL says so, which config.yaml or nodes.yaml asked for (with a warning at load).
 */
import { existsSync, readFileSync } from "node:fs";
import type { ProjectPaths } from "../config/load.ts";
import type { Model } from "../config/model.ts";
import { rosterUrl } from "../config/urls.ts";
import { CslrError } from "../errors.ts";
import type { Fetch } from "./client.ts";
import { pinnedFetch, pinOfPem } from "./tls.ts";

export interface ElectionAccess {
  url: string;
  fetch: Fetch;
  /** The certificate pin, when the service speaks HTTPS. */
  pin?: string;
}

/** The pin of the certificate file `cslr init` wrote here, with its text; undefined when there is none. */
export function localCertificate(paths: Pick<ProjectPaths, "tlsCert">): { pin: string; pem: string } | undefined {
  if (!existsSync(paths.tlsCert)) return undefined;
  const pem = readFileSync(paths.tlsCert, "utf8");
  const pin = pinOfPem(pem);
  if (!pin) throw new CslrError(`${paths.tlsCert}: not a PEM certificate; delete it and its key (election-key.pem) and run \`cslr init\` to make a new pair`);
  return { pin, pem };
}

/** The election service's pin for this project: nodes.yaml's, else this host's certificate's. */
export function electionPin(model: Model, paths: Pick<ProjectPaths, "tlsCert">): string | undefined {
  return model.election.pin ?? localCertificate(paths)?.pin;
}

export function electionAccess(model: Model, paths: Pick<ProjectPaths, "tlsCert">, url = rosterUrl(model)): ElectionAccess {
  if (!url.startsWith("https:")) return { url, fetch };
  const local = localCertificate(paths);
  const pin = model.election.pin ?? local?.pin;
  if (!pin)
    throw new CslrError(
      `${paths.tlsCert} is missing: the election service speaks HTTPS with it; run \`cslr init\` (a member gets health_service.pin from \`cslr join\`)`,
    );
  return { url, pin, fetch: pinnedFetch(pin, local?.pin === pin ? local.pem : undefined) };
}
