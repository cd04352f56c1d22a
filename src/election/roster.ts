/**
 * The roster on the wire: what `GET /v1/cluster` answers, and the one parser every reader
 * uses (`status`, `up --wait`, `cslr test`). Tolerant of fields it does not know (a newer
 * service may add some) and strict about the ones it uses: anything else is "not a roster".
 */
import { z } from "zod";

const member = z.object({
  node: z.string().min(1),
  /** The workstation it runs on, when it said. */
  host: z.string().optional(),
  address: z.string(),
  /** The term of the head this worker joined (only with the cluster token). */
  term: z.number().int().optional(),
  /** When the election service recorded the join (its clock): tells a fresh join from an old entry. */
  joinedAt: z.number().optional(),
  /** Milliseconds since the member last reported. */
  ageMs: z.number().optional(),
});

const head = z.object({
  node: z.string().min(1),
  host: z.string().optional(),
  address: z.string(),
  ready: z.boolean().default(false),
  /** When the head's lease was granted (ISO 8601). */
  since: z.string().optional(),
  term: z.number().int().optional(),
  leaseRemainingMs: z.number().optional(),
});

const goneHost = z.object({ host: z.string(), address: z.string(), lastSeen: z.string() });

const clusterView = z.object({
  /** The current term (only with the cluster token). */
  term: z.number().int().optional(),
  /** Workstations whose nodes have all been silent for three lease TTLs (only with the cluster token). */
  gone: z.array(goneHost).optional(),
  head: head.nullable(),
  workers: z.array(member),
});

export type RosterMember = z.output<typeof member>;
export type RosterHeadView = z.output<typeof head>;
export type RosterView = z.output<typeof clusterView>;

/** A roster from parsed JSON, or undefined when the value is not one. */
export function parseClusterView(value: unknown): RosterView | undefined {
  const parsed = clusterView.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** A roster from the text of a response body, or undefined when it is not one. */
export function parseClusterViewText(text: string): RosterView | undefined {
  try {
    return parseClusterView(JSON.parse(text));
  } catch {
    return undefined;
  }
}
