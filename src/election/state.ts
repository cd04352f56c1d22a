/**
 * The head election as a pure state machine: no I/O, both clocks injected.
 *
 * Safety rests on four rules:
 * - one lease slot: a head is granted only when the slot is empty, and only after the last
 *   lease has been expired for a margin (so a head cut off from the service has stopped
 *   itself, at 2/3 of the TTL, before anyone else is granted: see LeaseKeeper in src/node/agent.ts);
 * - terms only grow (persisted before any answer, never reused, capped below 2^53);
 * - only whitelisted nodes are ever granted the lease;
 * - leases follow a monotonic clock, never the wall clock (which people and NTP step).
 *
 * The wall clock appears only in what people read: when a head was granted, when a member
 * joined. On restore every lease gets a fresh TTL on the new process's monotonic clock (its
 * holder could not heartbeat while the service was down).
 */
import { whitelists } from "../config/names.ts";

export interface HeadLease {
  node: string;
  /** The workstation the node runs on (its `host.name`), when it said. */
  host?: string;
  /** host:port workers pass to `ray start --address`. */
  address: string;
  term: number;
  /** True once the head reported its GCS port open. */
  ready: boolean;
  /** Wall-clock ms of the grant, for `status`. */
  grantedAt: number;
  /** Monotonic ms: the lease is void from here on. */
  expiresAt: number;
  /** Set by `cslr handover`: the holder is asked to stop Ray and release (to `to` when named). */
  stepDown?: { to: string | null };
}

export interface Member {
  node: string;
  host?: string;
  /** The address the node advertises (its Ray node IP). */
  address: string;
  /** Term of the head this member joined. */
  term: number;
  /** Wall-clock ms of the first join, for `status` and `cslr test` (a fresh join tells itself from an old entry). */
  joinedAt: number;
  /** Monotonic ms of the last report. */
  lastSeen: number;
}

/** One term of a head, for the page's history: wall-clock ms; `end` null while it holds. */
export interface HeadTerm {
  term: number;
  node: string;
  host?: string;
  start: number;
  end: number | null;
}

/** The history keeps the last this many terms (a flapping head must not grow the state file). */
export const maxHistory = 200;

/** What the state file holds: no monotonic times (they mean nothing to the next process). */
export interface ElectionSnapshot {
  version: 2;
  term: number;
  head: { node: string; host?: string; address: string; term: number; ready: boolean; grantedAt: number } | null;
  members: { node: string; host?: string; address: string; term: number; joinedAt: number }[];
  /** The heads so far, oldest first (absent in files written before cslr kept it). */
  history?: HeadTerm[];
}

export interface ElectionOptions {
  whitelist: readonly string[];
  leaseTtlMs: number;
  /** Monotonic milliseconds: leases and silence are measured on this clock only. */
  now: () => number;
  /** Wall-clock milliseconds, only for timestamps people read. */
  wallNow: () => number;
  /** At most this many roster members; the longest-silent ones go first. */
  maxMembers?: number;
}

export type ClaimOutcome =
  | { role: "head"; term: number; leaseTtlMs: number }
  | { role: "worker"; term: number; address: string; leaseTtlMs: number }
  | { role: "wait"; term: number; retryAfterMs: number; why: string; leaseTtlMs: number }
  | { role: "unavailable"; reason: string };

export type LeaseOutcome = { ok: true; term: number; leaseTtlMs: number; stepDown?: boolean } | { ok: false; term: number; reason: string };

export type HandoverOutcome = { ok: true; term: number; from: string; to: string | null } | { ok: false; reason: string };

export interface JoinOutcome {
  ok: boolean;
  term: number;
  /** The ready head's address, or null when there is none right now. */
  head: string | null;
  leaseTtlMs: number;
  reason?: string;
}

/** One structured line per decision: who, role, term, why. */
export interface DecisionLog {
  event: "claim" | "ready" | "heartbeat" | "release" | "join" | "expire" | "restore" | "prune" | "leave" | "handover" | "dead";
  node: string;
  role?: "head" | "worker" | "wait" | "fenced" | "gone";
  term: number;
  why: string;
}

export interface Decision<T> {
  outcome: T;
  /** True when the persisted part of the state changed and must be written before answering. */
  changed: boolean;
  logs: DecisionLog[];
}

/** A workstation whose nodes were in the cluster and have been silent for three lease TTLs. */
export interface GoneHost {
  host: string;
  /** Its nodes' address (no port). */
  address: string;
  /** Wall-clock ISO time of the last report from any of its nodes. */
  lastSeen: string;
}

/** The roster as the service shows it; `term`, lease detail and gone hosts only to holders of the cluster token. */
export interface ClusterView {
  term: number;
  /** Always filled by cluster(); optional so views built elsewhere (tests, pages) need not. */
  gone?: GoneHost[];
  head: { node: string; host?: string; address: string; term: number; ready: boolean; since: string; leaseRemainingMs: number } | null;
  workers: { node: string; host?: string; address: string; term: number; joinedAt: number; ageMs: number }[];
}

export const maxTerm = Number.MAX_SAFE_INTEGER - 1;

/** The last report from a workstation's nodes: monotonic for silence, wall clock for people. */
interface HostSeen {
  address: string;
  lastSeen: number;
  lastSeenWall: number;
}

/** At most this many workstations are remembered (the longest-silent are forgotten first). */
const maxHostsSeen = 256;

export interface Checkpoint {
  term: number;
  hostsSeen: [string, HostSeen][];
  lease: HeadLease | null;
  members: Member[];
  grantsFrom: number;
  lastHolder: string | null;
  handover: Handover | null;
  history: HeadTerm[];
}

export function emptySnapshot(): ElectionSnapshot {
  return { version: 2, term: 0, head: null, members: [] };
}

/**
 * The time after a lease expires before anyone else is granted: the old head stops itself at
 * 2/3 of the TTL without a renewal, so between that and expiry + margin it has over half a TTL
 * to stop Ray. Capped so failover after a lost host stays within TTL + 3 s.
 */
export function grantMarginMs(leaseTtlMs: number): number {
  return Math.min(Math.round(leaseTtlMs / 5), 3000);
}

/**
 * After a handover's release, how long only the chosen successor (or anyone but the old
 * holder) may claim: long enough for a waiting candidate that was woken to claim, short
 * enough that a successor that never comes costs little. Then anyone whitelisted may.
 */
export function handoverWindowMs(leaseTtlMs: number): number {
  return Math.min(leaseTtlMs, 10_000);
}

/** Who may take the free slot during a handover window. */
export interface Handover {
  from: string;
  to: string | null;
  until: number;
}

export class Election {
  private term: number;
  private lease: HeadLease | null = null;
  /** Monotonic ms before which nobody but the last holder is granted (the margin, or a quiet start). */
  private grantsFrom = Number.NEGATIVE_INFINITY;
  private lastHolder: string | null = null;
  private handover: Handover | null = null;
  private readonly members = new Map<string, Member>();
  /**
   * Workstations whose nodes reported, so `status` can name one whose nodes all went silent
   * (a reboot that did not come back) instead of just no longer listing it. In memory only:
   * a restarted service starts afresh (restored members report again or are pruned).
   */
  private readonly hostsSeen = new Map<string, HostSeen>();
  private history: HeadTerm[] = [];
  private readonly whitelist: readonly string[];
  private readonly leaseTtlMs: number;
  private readonly maxMembers: number;
  private readonly now: () => number;
  private readonly wallNow: () => number;

  constructor(options: ElectionOptions, snapshot: ElectionSnapshot = emptySnapshot()) {
    this.whitelist = [...options.whitelist];
    this.leaseTtlMs = options.leaseTtlMs;
    this.maxMembers = options.maxMembers ?? 4096;
    this.now = options.now;
    this.wallNow = options.wallNow;
    this.term = snapshot.term;
    const now = this.now();
    if (snapshot.head) this.lease = { ...snapshot.head, expiresAt: now + this.leaseTtlMs };
    for (const m of snapshot.members) this.members.set(m.node, { ...m, lastSeen: now });
    this.history = (snapshot.history ?? []).map((h) => ({ ...h }));
  }

  /**
   * Rebuilds the state a previous service wrote. The holder keeps its lease with a fresh TTL;
   * nobody else is granted before that lease has run out plus the margin, so a holder that
   * is alive keeps the cluster and one that is gone is replaced as after any expiry. A holder
   * no longer whitelisted loses the lease at once. Restored members get a fresh start: nobody
   * could report while the service was down.
   */
  static restore(options: ElectionOptions, snapshot: ElectionSnapshot): Decision<Election> {
    const election = new Election(options, snapshot);
    const logs: DecisionLog[] = [];
    const head = election.lease;
    if (head && !election.isWhitelisted(head.node)) {
      election.lease = null;
      logs.push({ event: "restore", node: head.node, role: "fenced", term: head.term, why: "restored head is not whitelisted" });
    } else if (head) {
      election.lastHolder = head.node;
      logs.push({ event: "restore", node: head.node, role: "head", term: head.term, why: "restored lease; the holder must heartbeat within the TTL" });
    }
    return { outcome: election, changed: head !== null && election.lease === null, logs };
  }

  /**
   * After the state was lost (a corrupt file moved aside): terms continue above `floor`, and
   * nobody is granted for one TTL plus the margin, so a head that still runs somewhere hears
   * 409 or stops itself first.
   */
  startAfterLostState(floor: number): void {
    this.startAbove(floor);
    this.grantsFrom = this.now() + this.leaseTtlMs + grantMarginMs(this.leaseTtlMs);
  }

  /**
   * Terms continue above `floor` (the wall clock in ms): a service that starts without its state
   * (a new volume, a new disk) never grants a term an old head may still hold.
   */
  startAbove(floor: number): void {
    this.term = Math.max(this.term, Math.min(Math.floor(floor), maxTerm - 1));
  }

  snapshot(): ElectionSnapshot {
    const head = this.lease;
    return {
      version: 2,
      term: this.term,
      head: head ? { node: head.node, host: head.host, address: head.address, term: head.term, ready: head.ready, grantedAt: head.grantedAt } : null,
      members: [...this.members.values()].map(({ node, host, address, term, joinedAt }) => ({ node, host, address, term, joinedAt })),
      history: this.history.map((h) => ({ ...h })),
    };
  }

  /** Everything, monotonic times included: what `rollback` puts back when a write fails. */
  checkpoint(): Checkpoint {
    return {
      term: this.term,
      hostsSeen: [...this.hostsSeen].map(([host, seen]) => [host, { ...seen }]),
      lease: this.lease ? { ...this.lease } : null,
      members: [...this.members.values()].map((m) => ({ ...m })),
      grantsFrom: this.grantsFrom,
      lastHolder: this.lastHolder,
      handover: this.handover,
      history: this.history.map((h) => ({ ...h })),
    };
  }

  rollback(to: Checkpoint): void {
    this.term = to.term;
    this.hostsSeen.clear();
    for (const [host, seen] of to.hostsSeen) this.hostsSeen.set(host, { ...seen });
    this.lease = to.lease ? { ...to.lease } : null;
    this.members.clear();
    for (const m of to.members) this.members.set(m.node, { ...m });
    this.grantsFrom = to.grantsFrom;
    this.lastHolder = to.lastHolder;
    this.handover = to.handover;
    this.history = to.history.map((h) => ({ ...h }));
  }

  /** The heads so far, oldest first: when each term began and ended (wall clock; an expiry is closed once noticed). */
  headHistory(): HeadTerm[] {
    return this.history.map((h) => ({ ...h }));
  }

  /** Closes the open term of the history at the wall clock's now (the lease ended). */
  private endTerm(term: number): void {
    const open = this.history.findLast((h) => h.term === term && h.end === null);
    if (open) open.end = this.wallNow();
  }

  get currentTerm(): number {
    return this.term;
  }

  get ttlMs(): number {
    return this.leaseTtlMs;
  }

  isWhitelisted(node: string): boolean {
    return whitelists(this.whitelist, node);
  }

  /** The head once it is ready (what workers connect to), or null. */
  readyHead(): HeadLease | null {
    const head = this.liveLease();
    return head?.ready ? { ...head } : null;
  }

  /** Milliseconds until the current lease runs out (0 when the slot is free). */
  leaseRemainingMs(): number {
    const head = this.liveLease();
    return head ? Math.max(0, head.expiresAt - this.now()) : 0;
  }

  claim(node: string, address: string, host?: string): Decision<ClaimOutcome> {
    const logs = this.expireIfDue();
    const changed = logs.length > 0;
    const head = this.lease;
    const whitelisted = this.isWhitelisted(node);
    const ttl = this.leaseTtlMs;

    if (head && head.node === node && whitelisted) {
      // The holder claims again: its container restarted, so the Ray it headed is gone. A new
      // term fences whatever the old incarnation might still do.
      return this.grant(node, address, host, logs, `${node} claimed again while holding term ${head.term}; restarted head`);
    }
    if (!head && whitelisted) {
      const now = this.now();
      const handing = this.handover && now < this.handover.until ? this.handover : null;
      if (handing && !(handing.to === null ? node !== handing.from : node === handing.to)) {
        const retryAfterMs = Math.max(1, Math.ceil(handing.until - now));
        const why = `${handing.from} handed the head over to ${handing.to ?? "another whitelisted node"}; others may claim in ${retryAfterMs} ms`;
        logs.push({ event: "claim", node, role: "wait", term: this.term, why });
        return { outcome: { role: "wait", term: this.term, retryAfterMs, why, leaseTtlMs: ttl }, changed, logs };
      }
      if (handing || now >= this.grantsFrom || node === this.lastHolder) {
        return this.grant(node, address, host, logs, "no live head and the claimant is whitelisted");
      }
      const retryAfterMs = Math.max(1, Math.ceil(this.grantsFrom - now));
      const why = `the last lease ended less than the margin ago; no grant for ${retryAfterMs} ms, so the old head has stopped`;
      logs.push({ event: "claim", node, role: "wait", term: this.term, why });
      return { outcome: { role: "wait", term: this.term, retryAfterMs, why, leaseTtlMs: ttl }, changed, logs };
    }
    if (head?.ready) {
      logs.push({ event: "claim", node, role: "worker", term: head.term, why: `head ${head.node} is ready at ${head.address}` });
      return { outcome: { role: "worker", term: head.term, address: head.address, leaseTtlMs: ttl }, changed, logs };
    }
    // Whole milliseconds: the protocol says int, and monotonic clocks give fractions.
    const retryAfterMs = head ? Math.max(1, Math.ceil(head.expiresAt - this.now())) : ttl;
    const why = head
      ? `head ${head.node} (term ${head.term}) is starting; waiting until it is ready`
      : `${node} is not whitelisted and no head holds the lease; waiting for a whitelisted node to claim it`;
    logs.push({ event: "claim", node, role: "wait", term: this.term, why });
    return { outcome: { role: "wait", term: this.term, retryAfterMs, why, leaseTtlMs: ttl }, changed, logs };
  }

  ready(node: string, term: number): Decision<LeaseOutcome> {
    const logs = this.expireIfDue();
    const head = this.lease;
    if (!head || head.node !== node || head.term !== term) return this.fence("ready", node, term, logs);
    const wasReady = head.ready;
    this.seen(head.host, head.address);
    head.ready = true;
    head.expiresAt = this.now() + this.leaseTtlMs;
    if (!wasReady) logs.push({ event: "ready", node, role: "head", term, why: `GCS port open at ${head.address}` });
    return { outcome: { ok: true, term, leaseTtlMs: this.leaseTtlMs }, changed: logs.length > 0, logs };
  }

  heartbeat(node: string, term: number): Decision<LeaseOutcome> {
    const logs = this.expireIfDue();
    const head = this.lease;
    if (!head || head.node !== node || head.term !== term) return this.fence("heartbeat", node, term, logs);
    this.seen(head.host, head.address);
    head.expiresAt = this.now() + this.leaseTtlMs;
    return { outcome: { ok: true, term, leaseTtlMs: this.leaseTtlMs, ...(head.stepDown ? { stepDown: true } : {}) }, changed: logs.length > 0, logs };
  }

  /**
   * `cslr handover [NODE]`: asks the holder to step down (it stops Ray while it keeps renewing,
   * then releases). Only a live head can be asked, and only towards a whitelisted node other
   * than itself; the request is not persisted (a restarted service has no one to pass it on to).
   */
  askHandover(to: string | null): Decision<HandoverOutcome> {
    const logs = this.expireIfDue();
    const head = this.lease;
    const fail = (reason: string): Decision<HandoverOutcome> => ({ outcome: { ok: false, reason }, changed: logs.length > 0, logs });
    if (!head) return fail("no head holds the lease; there is nothing to hand over");
    if (to !== null && !this.isWhitelisted(to)) return fail(`${to} is not whitelisted; expected a node of head_whitelist`);
    if (to === head.node) return fail(`${to} is already the head (term ${head.term})`);
    // Only a node that runs now can take over: else the head would stop Ray for nothing.
    const candidates = [...this.members.values()].filter((m) => m.term === head.term && this.isWhitelisted(m.node)).map((m) => m.node);
    if (to !== null && !candidates.includes(to))
      return fail(`${to} has not joined head ${head.node} (term ${head.term}); expected a running whitelisted node (cslr status lists them)`);
    if (to === null && candidates.length === 0) return fail(`no other whitelisted node has joined head ${head.node}; nobody could take over`);
    head.stepDown = { to };
    logs.push({
      event: "handover",
      node: head.node,
      role: "head",
      term: head.term,
      why: `asked to step down in favour of ${to ?? "another whitelisted node"}`,
    });
    return { outcome: { ok: true, term: head.term, from: head.node, to }, changed: logs.length > 0, logs };
  }

  /** Whether the holder of `term` has been asked to step down (what its watch is answered with). */
  stepDownAsked(node: string, term: number): boolean {
    const head = this.liveLease();
    return head !== null && head.node === node && head.term === term && head.stepDown !== undefined;
  }

  /** Gives the lease up at once (clean shutdown): the next whitelisted claimant is granted without the margin. */
  release(node: string, term: number): Decision<LeaseOutcome> {
    const logs = this.expireIfDue();
    const head = this.lease;
    if (!head || head.node !== node || head.term !== term) return this.fence("release", node, term, logs);
    this.lease = null;
    this.grantsFrom = Number.NEGATIVE_INFINITY;
    this.handover = head.stepDown ? { from: node, to: head.stepDown.to, until: this.now() + handoverWindowMs(this.leaseTtlMs) } : null;
    logs.push({
      event: "release",
      node,
      role: "head",
      term,
      why: head.stepDown ? "head released its lease for a handover" : "head released its lease on shutdown",
    });
    this.endTerm(term);
    return { outcome: { ok: true, term, leaseTtlMs: this.leaseTtlMs }, changed: true, logs };
  }

  /**
   * The head's process is known dead (its fate-shared watch connection closed unanswered):
   * the lease ends now, and the next whitelisted claimant is granted without the TTL's wait.
   */
  declareDead(node: string, term: number): Decision<{ ended: boolean }> {
    const logs = this.expireIfDue();
    const head = this.lease;
    if (!head || head.node !== node || head.term !== term) return { outcome: { ended: false }, changed: logs.length > 0, logs };
    this.lease = null;
    this.grantsFrom = Number.NEGATIVE_INFINITY;
    this.handover = null;
    logs.push({
      event: "dead",
      node,
      role: "gone",
      term,
      why: "the head's agent (its container's PID 1) closed its held watch: the head and its Ray are gone",
    });
    this.endTerm(term);
    return { outcome: { ended: true }, changed: true, logs };
  }

  /** Records a worker in the roster and tells it which head is current. */
  join(node: string, address: string, host?: string): Decision<JoinOutcome> {
    const logs = this.expireIfDue();
    let changed = logs.length > 0;
    const head = this.liveLease();
    const ttl = this.leaseTtlMs;
    if (head?.node === node) {
      return { outcome: { ok: false, term: this.term, head: null, leaseTtlMs: ttl, reason: `${node} holds the head lease` }, changed, logs };
    }
    const now = this.now();
    this.seen(host, address);
    const known = this.members.get(node);
    const term = head?.ready ? head.term : this.term;
    if (!known || known.address !== address || known.term !== term || known.host !== host) {
      if (!known) this.makeRoom(logs);
      this.members.set(node, { node, host, address, term, joinedAt: known?.joinedAt ?? this.wallNow(), lastSeen: now });
      logs.push({ event: "join", node, role: "worker", term, why: head?.ready ? `joined head ${head.node}` : "joined; no ready head" });
      changed = true;
    } else {
      known.lastSeen = now;
    }
    return { outcome: { ok: true, term, head: head?.ready ? head.address : null, leaseTtlMs: ttl }, changed, logs };
  }

  /** A worker stops cleanly and leaves the roster at once (instead of after three silent TTLs). */
  part(node: string): Decision<{ ok: true }> {
    const logs = this.expireIfDue();
    const member = this.members.get(node);
    if (member) {
      this.members.delete(node);
      logs.push({ event: "leave", node, role: "gone", term: member.term, why: "stopped cleanly" });
    }
    return { outcome: { ok: true }, changed: logs.length > 0, logs };
  }

  /** A host leaves the cluster: its members leave the roster, and a head on it gives up its lease. */
  leave(host: string): Decision<{ removed: string[] }> {
    const logs = this.expireIfDue();
    const removed: string[] = [];
    // Left on purpose: not "gone".
    this.hostsSeen.delete(host);
    for (const [node, member] of this.members) {
      if (member.host === host) {
        this.members.delete(node);
        removed.push(node);
        logs.push({ event: "leave", node, role: "gone", term: member.term, why: `host ${host} left the cluster` });
      }
    }
    const head = this.lease;
    if (head?.host === host) {
      this.lease = null;
      this.grantsFrom = Number.NEGATIVE_INFINITY;
      this.endTerm(head.term);
      removed.push(head.node);
      logs.push({ event: "leave", node: head.node, role: "fenced", term: head.term, why: `host ${host} left the cluster; its head gave up the lease` });
    }
    return { outcome: { removed }, changed: logs.length > 0, logs };
  }

  /**
   * Members report every TTL/3; one silent for three TTLs is gone (its container was removed
   * or replaced), so it leaves the roster (persisted: it does not come back after a restart).
   */
  prune(): Decision<{ removed: string[] }> {
    const logs = this.expireIfDue();
    const cutoff = this.now() - 3 * this.leaseTtlMs;
    const removed: string[] = [];
    for (const [node, member] of this.members) {
      if (member.lastSeen < cutoff) {
        this.members.delete(node);
        removed.push(node);
        logs.push({ event: "prune", node, role: "gone", term: member.term, why: "silent for three lease TTLs" });
      }
    }
    return { outcome: { removed }, changed: logs.length > 0, logs };
  }

  cluster(): ClusterView {
    const now = this.now();
    const head = this.liveLease();
    return {
      term: this.term,
      gone: this.goneHosts(),
      head: head
        ? {
            node: head.node,
            host: head.host,
            address: head.address,
            term: head.term,
            ready: head.ready,
            since: new Date(head.grantedAt).toISOString(),
            leaseRemainingMs: Math.max(0, head.expiresAt - now),
          }
        : null,
      workers: [...this.members.values()]
        .map((m) => ({ node: m.node, host: m.host, address: m.address, term: m.term, joinedAt: m.joinedAt, ageMs: Math.max(0, now - m.lastSeen) }))
        .sort((a, b) => a.node.localeCompare(b.node)),
    };
  }

  /** Notes a report from a node of `host` (nodes that did not say their host are not tracked). */
  private seen(host: string | undefined, address: string): void {
    if (!host) return;
    this.hostsSeen.delete(host);
    this.hostsSeen.set(host, { address: address.replace(/:\d{1,5}$/, ""), lastSeen: this.now(), lastSeenWall: this.wallNow() });
    if (this.hostsSeen.size > maxHostsSeen) this.hostsSeen.delete(this.hostsSeen.keys().next().value!);
  }

  /** Workstations with no node on the roster or holding the lease, silent for three TTLs. */
  private goneHosts(): GoneHost[] {
    const present = new Set([...this.members.values()].map((m) => m.host));
    if (this.lease) present.add(this.lease.host);
    const cutoff = this.now() - 3 * this.leaseTtlMs;
    return [...this.hostsSeen]
      .filter(([host, seen]) => !present.has(host) && seen.lastSeen < cutoff)
      .map(([host, seen]) => ({ host, address: seen.address, lastSeen: new Date(seen.lastSeenWall).toISOString() }))
      .sort((a, b) => a.host.localeCompare(b.host));
  }

  /** Expires a due lease in place; the shell's timers call it so waiters learn at once. */
  expireIfDue(): DecisionLog[] {
    const head = this.lease;
    if (!head || this.now() < head.expiresAt) return [];
    this.lease = null;
    this.lastHolder = head.node;
    this.grantsFrom = head.expiresAt + grantMarginMs(this.leaseTtlMs);
    this.endTerm(head.term);
    return [{ event: "expire", node: head.node, role: "fenced", term: head.term, why: "no heartbeat within the lease TTL" }];
  }

  /** Who holds the slot, in which term, and whether asked to step down: a change of it wakes the service's long-polls. */
  slotKey(): string {
    const head = this.lease;
    return head ? `${head.node}:${head.term}:${head.ready ? 1 : 0}:${head.stepDown ? 1 : 0}` : "free";
  }

  /** Monotonic ms at which the current lease (if any) expires; for the shell's timer. */
  leaseExpiresAt(): number | null {
    return this.lease?.expiresAt ?? null;
  }

  private liveLease(): HeadLease | null {
    this.expireIfDue();
    return this.lease;
  }

  /** Keeps the roster bounded: the longest-silent member leaves to make room for a new one. */
  private makeRoom(logs: DecisionLog[]): void {
    if (this.members.size < this.maxMembers) return;
    let oldest: Member | undefined;
    for (const m of this.members.values()) if (!oldest || m.lastSeen < oldest.lastSeen) oldest = m;
    if (!oldest) return;
    this.members.delete(oldest.node);
    logs.push({
      event: "prune",
      node: oldest.node,
      role: "gone",
      term: oldest.term,
      why: `roster full (${this.maxMembers}); the longest-silent member leaves`,
    });
  }

  private grant(node: string, address: string, host: string | undefined, logs: DecisionLog[], why: string): Decision<ClaimOutcome> {
    if (this.term >= maxTerm) {
      const reason = `term space exhausted at ${this.term}; delete the election state (cslr down -v) to start again`;
      return { outcome: { role: "unavailable", reason }, changed: logs.length > 0, logs };
    }
    const now = this.now();
    // A head that claims again (restarted) ends its term now: the next one starts with it.
    if (this.lease) this.endTerm(this.lease.term);
    this.term += 1;
    this.lease = { node, host, address, term: this.term, ready: false, grantedAt: this.wallNow(), expiresAt: now + this.leaseTtlMs };
    this.seen(host, address);
    this.history.push({ term: this.term, node, host, start: this.lease.grantedAt, end: null });
    if (this.history.length > maxHistory) this.history.splice(0, this.history.length - maxHistory);
    this.lastHolder = node;
    this.handover = null;
    // The roster belongs to a head: members re-join the new one.
    this.members.clear();
    logs.push({ event: "claim", node, role: "head", term: this.term, why });
    return { outcome: { role: "head", term: this.term, leaseTtlMs: this.leaseTtlMs }, changed: true, logs };
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
