/**
 * The fields of the election roster (`GET {url}/v1/cluster`, src/election/state.ts's
 * ClusterView) that `status` and `up --wait` use, read without throwing.
 */
import type { ClusterView } from "../election/state.ts";

/** Derived from the service's own type, so a change there fails the type check here. */
export type RosterHead = Pick<NonNullable<ClusterView["head"]>, "node" | "address" | "term" | "since" | "ready">;
export type RosterWorker = Pick<ClusterView["workers"][number], "node" | "address" | "ageMs">;

export interface Roster {
  head: RosterHead | null;
  term: number;
  workers: RosterWorker[];
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

function isRoster(value: unknown): value is Roster {
  const v = value as Roster | null;
  return !!v && typeof v === "object" && Array.isArray(v.workers) && typeof v.term === "number" && (v.head === null || typeof v.head === "object");
}

/** The roster, or a one-line reason it could not be read (never throws). */
export async function fetchRoster(
  baseUrl: string,
  opts: { fetch?: Fetch; timeoutMs?: number } = {},
): Promise<{ roster: Roster } | { error: string }> {
  const url = `${baseUrl.replace(/\/+$/, "")}/v1/cluster`;
  const doFetch = opts.fetch ?? fetch;
  try {
    const response = await doFetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 2000) });
    if (!response.ok) return { error: `${url} answered HTTP ${response.status}` };
    const body: unknown = await response.json();
    if (!isRoster(body)) return { error: `${url} did not return a roster ({ head, term, workers })` };
    return { roster: body };
  } catch (error) {
    return { error: `${url} unreachable: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The health service as seen from this host: its published port on loopback. */
export function localHealthUrl(healthPort: number): string {
  return `http://127.0.0.1:${healthPort}`;
}
