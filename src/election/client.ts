/**
 * A small client of the election service, for `cslr status`, `up --wait` and `health ping`.
 * fetch is injectable so callers can test without a server.
 */
import { parseClusterView, type RosterView } from "./roster.ts";

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface ReadyHead {
  node: string;
  address: string;
  term: number;
}

function endpoint(url: string, path: string): string {
  return `${url.replace(/\/+$/, "")}${path}`;
}

export type ClusterResult = { roster: RosterView } | { error: string };

/**
 * The roster (head, term, since, workers and when each was last seen), or a one-line reason it
 * could not be read. Never throws: `status` and `up --wait` show the reason and go on.
 */
export async function readCluster(
  url: string,
  opts: { token?: string; fetch?: Fetch; timeoutMs?: number } = {},
): Promise<ClusterResult> {
  const target = endpoint(url, "/v1/cluster");
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  try {
    const res = await (opts.fetch ?? fetch)(target, { headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 5000) });
    if (!res.ok) return { error: `${target} answered HTTP ${res.status}` };
    const roster = parseClusterView(await res.json());
    if (!roster) return { error: `${target} did not return a roster ({ head, workers })` };
    return { roster };
  } catch (error) {
    return { error: `${target} unreachable: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * Resolves as soon as a ready head exists (long-poll, no sleeps), or null after `seconds`.
 * Connection failures are retried until the deadline: the service may still be starting.
 */
export async function waitForHead(url: string, seconds: number, fetchImpl: Fetch = fetch): Promise<ReadyHead | null> {
  const deadline = Date.now() + seconds * 1000;
  while (true) {
    const left = deadline - Date.now();
    if (left <= 0) return null;
    const waitSeconds = (Math.min(left, 60_000) / 1000).toFixed(3);
    try {
      const res = await fetchImpl(endpoint(url, `/v1/head?wait=${waitSeconds}`), {
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(left + 1000),
      });
      const body = (await res.json()) as { ready?: boolean } & Partial<ReadyHead>;
      if (res.ok && body.ready && body.node && body.address && body.term) {
        return { node: body.node, address: body.address, term: body.term };
      }
    } catch {
      // The service is not up yet: try again shortly, within the deadline.
      await Bun.sleep(Math.min(Math.max(deadline - Date.now(), 0), 200));
    }
  }
}

/** True when `GET /healthz` answers 200 within `seconds`. */
export async function ping(url: string, seconds: number, fetchImpl: Fetch = fetch): Promise<boolean> {
  try {
    const res = await fetchImpl(endpoint(url, "/healthz"), { signal: AbortSignal.timeout(Math.max(1, Math.round(seconds * 1000))) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
