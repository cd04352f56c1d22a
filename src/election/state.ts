/**
 * The head election as a pure state machine: no I/O, the clock is injected.
 *
 * Safety rests on three rules:
 * - one lease slot: a head is granted only when the slot is empty or its lease has expired;
 * - terms only grow (persisted, never reused), so a fenced head is recognisable by its term;
 * - only whitelisted nodes are ever granted the lease.
 *
 * Lease expiry and `lastSeen` are not part of the persisted identity of the state: on restore
 * every lease gets a fresh TTL (its holder could not heartbeat while the service was down), so
 * a heartbeat that only moves the expiry does not need to be written to disk.
 */

export interface HeadLease {
  node: string;
  /** host:port workers pass to `ray start --address`. */
  address: string;
  term: number;
  /** True once the head reported its GCS port open. */
  ready: boolean;
  grantedAt: number;
  readyAt: number | null;
  leaseExpiresAt: number;
}

export interface WorkerEntry {
  node: string;
  address: string;
  /** Term of the head this worker joined. */
  term: number;
  joinedAt: number;
  lastSeen: number;
}

export interface ElectionSnapshot {
  version: 1;
  term: number;
  head: HeadLease | null;
  workers: WorkerEntry[];
}

export interface ElectionOptions {
  whitelist: readonly string[];
  leaseTtlMs: number;
  now: () => number;
}

export type ClaimOutcome =
  | { role: "head"; term: number; leaseTtlMs: number; leaseExpiresAt: number }
  | { role: "worker"; term: number; address: string }
  | { role: "wait"; term: number; retryAfterMs: number };

export type LeaseOutcome =
  | { ok: true; term: number; leaseExpiresAt: number }
  | { ok: false; term: number; reason: string };

export interface JoinOutcome {
  ok: boolean;
  term: number;
  /** The ready head's address, or null when there is none right now. */
  head: string | null;
  reason?: string;
}

/** One structured line per decision: who, role, term, why. */
export interface DecisionLog {
  event: "claim" | "ready" | "heartbeat" | "release" | "join" | "expire" | "restore";
  node: string;
  role?: "head" | "worker" | "wait" | "fenced";
  term: number;
  why: string;
}

export interface Decision<T> {
  outcome: T;
  /** True when the persisted part of the state changed and must be written before answering. */
  changed: boolean;
  logs: DecisionLog[];
}

export interface ClusterView {
  term: number;
  /** `since`: when the head's lease was granted (ISO 8601), for `cslr status`. */
  head: (HeadLease & { leaseRemainingMs: number; since: string }) | null;
  workers: (WorkerEntry & { ageMs: number })[];
}

export function emptySnapshot(): ElectionSnapshot {
  return { version: 1, term: 0, head: null, workers: [] };
}

export class Election {
  private term: number;
  private lease: HeadLease | null;
  private readonly workers = new Map<string, WorkerEntry>();
  private readonly whitelist: ReadonlySet<string>;
  private readonly leaseTtlMs: number;
  private readonly now: () => number;

  constructor(options: ElectionOptions, snapshot: ElectionSnapshot = emptySnapshot()) {
    this.whitelist = new Set(options.whitelist);
    this.leaseTtlMs = options.leaseTtlMs;
    this.now = options.now;
    this.term = snapshot.term;
    this.lease = snapshot.head ? { ...snapshot.head } : null;
    for (const w of snapshot.workers) this.workers.set(w.node, { ...w });
  }

  /**
   * Rebuilds the state a previous service wrote. The lease gets a fresh TTL: its holder could
   * not heartbeat while the service was down, and a holder that is really gone still loses the
   * lease one TTL from now, as usual. A holder no longer whitelisted loses it at once.
   */
  static restore(options: ElectionOptions, snapshot: ElectionSnapshot): Decision<Election> {
    const election = new Election(options, snapshot);
    const now = options.now();
    const logs: DecisionLog[] = [];
    const head = election.lease;
    if (head && !election.whitelist.has(head.node)) {
      election.lease = null;
      logs.push({ event: "restore", node: head.node, role: "fenced", term: head.term, why: "restored head is not whitelisted" });
    }
    // Nobody could report while the service was down: restored workers get a fresh start too.
    for (const worker of election.workers.values()) worker.lastSeen = Math.max(worker.lastSeen, now);
    if (head && election.lease) {
      head.leaseExpiresAt = now + options.leaseTtlMs;
      logs.push({ event: "restore", node: head.node, role: "head", term: head.term, why: "restored lease; holder must heartbeat within the TTL" });
    }
    return { outcome: election, changed: logs.length > 0 && election.lease === null, logs };
  }

  snapshot(): ElectionSnapshot {
    return {
      version: 1,
      term: this.term,
      head: this.lease ? { ...this.lease } : null,
      workers: [...this.workers.values()].map((w) => ({ ...w })),
    };
  }

  /** Puts back an earlier snapshot as is (the shell's rollback when a write fails). */
  restoreFrom(snapshot: ElectionSnapshot): void {
    this.term = snapshot.term;
    this.lease = snapshot.head ? { ...snapshot.head } : null;
    this.workers.clear();
    for (const w of snapshot.workers) this.workers.set(w.node, { ...w });
  }

  get currentTerm(): number {
    return this.term;
  }

  /** The head once it is ready (what workers connect to), or null. */
  readyHead(): HeadLease | null {
    const head = this.liveLease();
    return head?.ready ? { ...head } : null;
  }

  /** Milliseconds until the current lease runs out (0 when the slot is free). */
  leaseRemainingMs(): number {
    const head = this.liveLease();
    return head ? Math.max(0, head.leaseExpiresAt - this.now()) : 0;
  }

  claim(node: string, address: string): Decision<ClaimOutcome> {
    const logs = this.expireIfDue();
    let changed = logs.length > 0;
    const head = this.lease;
    const whitelisted = this.whitelist.has(node);

    if (head && head.node === node && whitelisted) {
      // The holder claims again: its container restarted, so the Ray it headed is gone. A new
      // term fences whatever the old incarnation might still do.
      return this.grant(node, address, logs, `${node} claimed again while holding term ${head.term}; restarted head`);
    }
    if (!head && whitelisted) {
      return this.grant(node, address, logs, "no live head and the claimant is whitelisted");
    }
    if (head?.ready) {
      logs.push({ event: "claim", node, role: "worker", term: head.term, why: `head ${head.node} is ready at ${head.address}` });
      return { outcome: { role: "worker", term: head.term, address: head.address }, changed, logs };
    }
    const retryAfterMs = head ? Math.max(1, head.leaseExpiresAt - this.now()) : this.leaseTtlMs;
    const why = head
      ? `head ${head.node} (term ${head.term}) is not ready yet`
      : `${node} is not whitelisted and no head is ready`;
    logs.push({ event: "claim", node, role: "wait", term: this.term, why });
    return { outcome: { role: "wait", term: this.term, retryAfterMs }, changed, logs };
  }

  ready(node: string, term: number): Decision<LeaseOutcome> {
    const logs = this.expireIfDue();
    const head = this.lease;
    if (!head || head.node !== node || head.term !== term) return this.fence("ready", node, term, logs);
    const wasReady = head.ready;
    head.ready = true;
    head.readyAt ??= this.now();
    head.leaseExpiresAt = this.now() + this.leaseTtlMs;
    if (!wasReady) logs.push({ event: "ready", node, role: "head", term, why: `GCS port open at ${head.address}` });
    return { outcome: { ok: true, term, leaseExpiresAt: head.leaseExpiresAt }, changed: logs.length > 0, logs };
  }

  heartbeat(node: string, term: number): Decision<LeaseOutcome> {
    const logs = this.expireIfDue();
    const head = this.lease;
    if (!head || head.node !== node || head.term !== term) return this.fence("heartbeat", node, term, logs);
    head.leaseExpiresAt = this.now() + this.leaseTtlMs;
    return { outcome: { ok: true, term, leaseExpiresAt: head.leaseExpiresAt }, changed: logs.length > 0, logs };
  }

  release(node: string, term: number): Decision<LeaseOutcome> {
    const logs = this.expireIfDue();
    const head = this.lease;
    if (!head || head.node !== node || head.term !== term) return this.fence("release", node, term, logs);
    this.lease = null;
    logs.push({ event: "release", node, role: "head", term, why: "head released its lease on shutdown" });
    return { outcome: { ok: true, term, leaseExpiresAt: this.now() }, changed: true, logs };
  }

  /** Records a worker in the roster and tells it which head is current. */
  join(node: string, address: string): Decision<JoinOutcome> {
    const logs = this.expireIfDue();
    let changed = logs.length > 0;
    const head = this.liveLease();
    if (head?.node === node) {
      return { outcome: { ok: false, term: this.term, head: null, reason: `${node} holds the head lease` }, changed, logs };
    }
    const now = this.now();
    const known = this.workers.get(node);
    const term = head?.ready ? head.term : this.term;
    if (!known || known.address !== address || known.term !== term) {
      this.workers.set(node, { node, address, term, joinedAt: known?.joinedAt ?? now, lastSeen: now });
      logs.push({ event: "join", node, role: "worker", term, why: head?.ready ? `joined head ${head.node}` : "joined; no ready head" });
      changed = true;
    } else {
      known.lastSeen = now;
    }
    return { outcome: { ok: true, term, head: head?.ready ? head.address : null }, changed, logs };
  }

  /**
   * Workers report every TTL/3; one silent for three TTLs is gone (its container was removed
   * or replaced), so it leaves the roster instead of being counted as joined forever.
   */
  private pruneSilentWorkers(): void {
    const cutoff = this.now() - 3 * this.leaseTtlMs;
    for (const [node, worker] of this.workers) if (worker.lastSeen < cutoff) this.workers.delete(node);
  }

  cluster(): ClusterView {
    this.expireIfDue();
    this.pruneSilentWorkers();
    const now = this.now();
    const head = this.lease
      ? { ...this.lease, leaseRemainingMs: Math.max(0, this.lease.leaseExpiresAt - now), since: new Date(this.lease.grantedAt).toISOString() }
      : null;
    const workers = [...this.workers.values()]
      .map((w) => ({ ...w, ageMs: now - w.lastSeen }))
      .sort((a, b) => a.node.localeCompare(b.node));
    return { term: this.term, head, workers };
  }

  /** Expires a due lease in place; used by the shell's timers so waiters learn at once. */
  expireIfDue(): DecisionLog[] {
    const head = this.lease;
    if (!head || this.now() < head.leaseExpiresAt) return [];
    this.lease = null;
    return [{ event: "expire", node: head.node, role: "fenced", term: head.term, why: "no heartbeat within the lease TTL" }];
  }

  private liveLease(): HeadLease | null {
    this.expireIfDue();
    return this.lease;
  }

  private grant(node: string, address: string, logs: DecisionLog[], why: string): Decision<ClaimOutcome> {
    const now = this.now();
    this.term += 1;
    this.lease = { node, address, term: this.term, ready: false, grantedAt: now, readyAt: null, leaseExpiresAt: now + this.leaseTtlMs };
    // The roster belongs to a head: workers re-join the new one.
    this.workers.clear();
    logs.push({ event: "claim", node, role: "head", term: this.term, why });
    return {
      outcome: { role: "head", term: this.term, leaseTtlMs: this.leaseTtlMs, leaseExpiresAt: this.lease.leaseExpiresAt },
      changed: true,
      logs,
    };
  }

  private fence(event: DecisionLog["event"], node: string, term: number, logs: DecisionLog[]): Decision<LeaseOutcome> {
    const head = this.lease;
    const changed = logs.length > 0;
    const reason = !head
      ? `term ${term} is not current: no head holds the lease (current term ${this.term})`
      : `term ${term} of ${node} is not current: ${head.node} holds term ${head.term}`;
    logs.push({ event, node, role: "fenced", term, why: reason });
    return { outcome: { ok: false, term: this.term, reason }, changed, logs };
  }
}
