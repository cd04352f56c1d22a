/**
 * The fields of the election roster (`GET {url}/v1/cluster`, src/election/state.ts's
 * ClusterView) that `status` and `up --wait` use, read without throwing.
 */
import { readCluster, type Fetch } from "../election/client.ts";
import type { ClusterView } from "../election/state.ts";

/** Derived from the service's own type, so a change there fails the type check here. */
export type RosterHead = Pick<NonNullable<ClusterView["head"]>, "node" | "address" | "term" | "since" | "ready">;
export type RosterWorker = Pick<ClusterView["workers"][number], "node" | "address" | "ageMs">;

export interface Roster {
  head: RosterHead | null;
  term: number;
  workers: RosterWorker[];
}

/** The roster through the election client, or a one-line reason it could not be read (never throws). */
export async function fetchRoster(
  baseUrl: string,
  opts: { fetch?: Fetch; timeoutMs?: number } = {},
): Promise<{ roster: Roster } | { error: string }> {
  return readCluster(baseUrl, { fetch: opts.fetch, timeoutMs: opts.timeoutMs ?? 2000 });
}

/** The health service as seen from this host: its published port on loopback. */
export function localHealthUrl(healthPort: number): string {
  return `http://127.0.0.1:${healthPort}`;
}
