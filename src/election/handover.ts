/**
 * `cslr handover [NODE]` without the command line: asks the election service to move the head
 * and follows the roster until a new head is ready, measuring how long that took (from the
 * request to the new head's GCS port open, as the service saw it).
 */
import { askHandover, readCluster, type Fetch } from "./client.ts";

export interface HandoverResult {
  from: string;
  to: string;
  oldTerm: number;
  newTerm: number;
  /** Milliseconds from the request to a ready new head. */
  tookMs: number;
}

export interface HandoverOptions {
  url: string;
  token: string;
  /** The preferred successor; null lets the service pick any other whitelisted node. */
  to: string | null;
  /** Gives up after this many milliseconds without a ready new head. */
  timeoutMs: number;
  fetch?: Fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type HandoverOutcome = { ok: true; value: HandoverResult } | { ok: false; reason: string };

export async function handOver(options: HandoverOptions): Promise<HandoverOutcome> {
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? ((ms: number) => Bun.sleep(ms));
  const started = now();
  const asked = await askHandover(options.url, options.token, options.to, { fetch: options.fetch });
  if (!asked.ok)
    return {
      ok: false,
      reason: asked.status === 0 ? `could not ask the election service: ${asked.reason}` : `the election service refused the handover: ${asked.reason}`,
    };
  const { term: oldTerm, from } = asked.value;
  let last = "no answer yet";
  while (now() - started < options.timeoutMs) {
    const read = await readCluster(options.url, { token: options.token, fetch: options.fetch, timeoutMs: 2000 });
    if ("error" in read) last = read.error;
    else {
      const head = read.roster.head;
      if (head?.ready && head.term !== undefined && head.term > oldTerm) {
        return { ok: true, value: { from, to: head.node, oldTerm, newTerm: head.term, tookMs: Math.round(now() - started) } };
      }
      last = head ? `${head.node} (term ${head.term ?? "?"}) is ${head.ready ? "ready" : "starting"}` : "no head holds the lease";
    }
    await sleep(100);
  }
  return {
    ok: false,
    reason: `${from} was asked to step down, but no new head was ready within ${Math.round(options.timeoutMs / 1000)} s (last seen: ${last}); \`cslr status\` shows where it stands`,
  };
}
