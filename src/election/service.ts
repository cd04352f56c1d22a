/**
 * The election service without HTTP: the state machine, its state file, the long-poll
 * waiters, the timers and the log. Every change is written to disk before it is answered; a
 * change that cannot be written is rolled back and refused, and the service says it is
 * unhealthy until a write succeeds again.
 */
import type { JoinInfo } from "./membership.ts";
import { Election, type ClusterView, type Decision, type DecisionLog, type ElectionSnapshot, type HeadLease } from "./state.ts";
import { loadStateFile, writeStateFile } from "./store.ts";

export interface ElectionServiceOptions {
  whitelist: string[];
  leaseTtlMs: number;
  /** Where the state is written on every change; none keeps it in memory. */
  statePath?: string;
  /** Receives one JSON line per decision or incident. */
  log?: (line: string) => void;
  /** Monotonic milliseconds (default: performance.now). */
  now?: () => number;
  /** Wall-clock milliseconds, for timestamps people read (default: Date.now). */
  wallNow?: () => number;
  /** The writer of the state file (injected by tests that fill the disk). */
  writeState?: (path: string, snapshot: ElectionSnapshot) => void;
  maxMembers?: number;
  /** At most this many long-polls are held at once; more are answered at once. */
  maxWaiters?: number;
  /** What a workstation needs to join (rendered by `cslr generate` on the coordinator). */
  joinInfo?: JoinInfo;
}

/** A workstation that announced itself to join: the reach-back check dials only these. */
export interface RegisteredHost {
  address: string;
  registeredAt: number;
}

export type Applied<T> = { outcome: T } | { failed: string };

/**
 * From a dead head's closed watch to the end of its lease: the kernel kills the rest of the
 * head's PID namespace (Ray) as its PID 1 exits, within milliseconds; a new head's own start
 * takes seconds more. One second covers the first with a wide margin.
 */
export const deathGraceMs = 1000;

export class ElectionService {
  readonly election: Election;
  private readonly waiters = new Set<() => void>();
  private readonly log: (line: string) => void;
  private readonly wallNow: () => number;
  private readonly writeState: (path: string, snapshot: ElectionSnapshot) => void;
  private readonly maxWaiters: number;
  /** Why the state cannot be written right now; undefined while it can. */
  private storeProblem: string | undefined;
  /** The last claim answer logged per node: asking again for the same answer is not news. */
  private readonly lastClaimLogged = new Map<string, string>();
  private readonly now: () => number;
  private timers: ReturnType<typeof setInterval>[] = [];
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set by stop(): held watches answer at once. */
  private closing = false;
  /** Workstations registered for a reach-back check (bounded; the oldest go first). */
  readonly hosts = new Map<string, RegisteredHost>();
  /** Reach-back checks running now, by host: one at a time each. */
  readonly probing = new Set<string>();

  constructor(private readonly options: ElectionServiceOptions) {
    const now = (this.now = options.now ?? (() => performance.now()));
    this.wallNow = options.wallNow ?? Date.now;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.writeState = options.writeState ?? writeStateFile;
    this.maxWaiters = options.maxWaiters ?? 1024;
    const electionOptions = { whitelist: options.whitelist, leaseTtlMs: options.leaseTtlMs, now, wallNow: this.wallNow, maxMembers: options.maxMembers };
    const loaded = options.statePath ? loadStateFile(options.statePath, this.wallNow) : undefined;
    const restored = Election.restore(electionOptions, loaded?.snapshot ?? { version: 2, term: 0, head: null, members: [] });
    this.election = restored.outcome;
    if (loaded?.kind === "fresh") {
      this.election.startAbove(this.wallNow());
      this.incident(
        "state-fresh",
        `no state file at ${options.statePath}: terms start above ${this.election.currentTerm}, the wall clock in ms, so none can repeat one granted before the state was lost`,
      );
    }
    if (loaded?.kind === "lost") {
      this.election.startAfterLostState(loaded.termFloor);
      this.incident(
        "state-lost",
        `the state file could not be read (${loaded.reason}); moved it to ${loaded.movedTo}. Terms continue above ${loaded.termFloor}, and no lease is granted for one TTL plus the margin`,
      );
    }
    this.emit(restored.logs);
    if (restored.changed || loaded?.kind !== "restored") this.persist();
  }

  /** Starts the timers: lease expiry (so waiters learn at once), roster pruning, state-file retries. */
  start(): void {
    const ttl = this.options.leaseTtlMs;
    this.timers.push(setInterval(() => this.apply(() => this.election.prune()), Math.max(250, ttl)));
    // A failed write is retried until the disk takes it again; /healthz says unhealthy meanwhile.
    this.timers.push(setInterval(() => this.storeProblem !== undefined && this.persist(), 1000));
    this.scheduleExpiry();
  }

  stop(): void {
    this.closing = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    clearTimeout(this.expiryTimer);
    for (const wake of [...this.waiters]) wake();
  }

  /** Long-polls held right now. */
  get waiting(): number {
    return this.waiters.size;
  }

  /** Undefined while healthy; else the reason (the state cannot be written). */
  get unhealthy(): string | undefined {
    return this.storeProblem;
  }

  /**
   * Applies one state-machine call: writes the state before answering when it changed (a
   * grant that is not on disk could be handed out twice after a restart), and rolls back and
   * refuses when it cannot.
   */
  apply<T>(step: () => Decision<T>): Applied<T> {
    const before = this.election.checkpoint();
    const slotBefore = this.election.slotKey();
    const decision = step();
    if (decision.changed && !this.persist()) {
      this.election.rollback(before);
      return { failed: `cannot write the election state: ${this.storeProblem}` };
    }
    this.emit(decision.logs);
    // Waiters learn of a ready head, and of any change of the slot (a release, an expiry, a
    // handover asked): a candidate claims at once instead of after its poll runs out.
    if (this.waiters.size > 0 && (this.election.readyHead() || this.election.slotKey() !== slotBefore)) for (const wake of [...this.waiters]) wake();
    this.scheduleExpiry();
    return { outcome: decision.outcome };
  }

  /**
   * Resolves as soon as a ready head exists or the lease slot changes, or with null after
   * `seconds` (or when the service stops). With `otherThan`, a worker's watch: resolves once the ready head is not that
   * term's (another head, or none), so a worker learns of a release or handover at once.
   */
  async waitForReadyHead(seconds: number, otherThan?: number): Promise<HeadLease | null> {
    // A candidate's wait ends on a ready head or on any change of the slot (a release: it claims at once).
    const slot = this.election.slotKey();
    const settled = () => {
      const head = this.election.readyHead();
      return otherThan === undefined ? head !== null || this.election.slotKey() !== slot : head?.term !== otherThan;
    };
    if (settled() || seconds <= 0 || this.waiters.size >= this.maxWaiters) return this.election.readyHead();
    return new Promise((resolve) => {
      const wake = () => {
        if (!settled() && !timedOut && !this.closing) return;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(this.election.readyHead());
      };
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        wake();
      }, seconds * 1000);
      this.waiters.add(wake);
    });
  }

  /** When each (node, term) lease holder was last heard from (ready, heartbeat, watch): a dead head is not heard from again. */
  private readonly heardFrom = new Map<string, number>();

  heard(node: string, term: number): void {
    this.heardFrom.set(`${node}:${term}`, performance.now());
    if (this.heardFrom.size > 64) this.heardFrom.delete(this.heardFrom.keys().next().value!);
  }

  /**
   * A fate-shared watch closed unanswered: the head's agent exited, and with it (PID 1) its
   * container's Ray. After `graceMs` (the kernel's kill of the rest of the PID namespace)
   * the lease ends, unless that head was heard from meanwhile (then it was alive after all).
   */
  headConnectionLost(node: string, term: number, graceMs = deathGraceMs): void {
    const lostAt = performance.now();
    setTimeout(() => {
      if ((this.heardFrom.get(`${node}:${term}`) ?? 0) > lostAt) return;
      this.apply(() => this.election.declareDead(node, term));
    }, graceMs).unref?.();
  }

  /**
   * The head's watch: resolves true as soon as its lease is asked to step down, false when the
   * lease is no longer its own or after `seconds` (the head then asks again).
   */
  async watchLease(node: string, term: number, seconds: number): Promise<boolean> {
    const asked = () => this.election.stepDownAsked(node, term);
    const current = () => this.election.slotKey().startsWith(`${node}:${term}:`);
    if (asked() || !current() || seconds <= 0 || this.waiters.size >= this.maxWaiters) return asked();
    return new Promise((resolve) => {
      const wake = () => {
        if (!asked() && current() && !done && !this.closing) return;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(asked());
      };
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        wake();
      }, seconds * 1000);
      this.waiters.add(wake);
    });
  }

  cluster(): ClusterView {
    return this.election.cluster();
  }

  get joinInfo(): JoinInfo | undefined {
    return this.options.joinInfo;
  }

  registerHost(name: string, address: string): void {
    if (!this.hosts.has(name) && this.hosts.size >= 1024) {
      const oldest = [...this.hosts].sort((a, b) => a[1].registeredAt - b[1].registeredAt)[0];
      if (oldest) this.hosts.delete(oldest[0]);
    }
    this.hosts.set(name, { address, registeredAt: this.now() });
    this.incident("host-registered", `${name} at ${address} announced itself to join`);
  }

  /** The address of a workstation in the cluster: registered, or on the roster with that host name. */
  addressOfHost(name: string): string | undefined {
    const registered = this.hosts.get(name)?.address;
    if (registered) return registered;
    const view = this.election.cluster();
    const member = [...(view.head ? [view.head] : []), ...view.workers].find((m) => m.host === name && /^\d+\.\d+\.\d+\.\d+(:\d+)?$/.test(m.address));
    return member?.address.replace(/:\d+$/, "");
  }

  private persist(): boolean {
    if (!this.options.statePath) return true;
    try {
      this.writeState(this.options.statePath, this.election.snapshot());
      if (this.storeProblem !== undefined) this.incident("state-writable", "the state file can be written again");
      this.storeProblem = undefined;
      return true;
    } catch (error) {
      const reason = `${this.options.statePath}: ${(error as Error).message}`;
      if (this.storeProblem !== reason)
        this.incident("state-unwritable", `cannot write the election state (${reason}); no change is granted until it can, and /healthz says so`);
      this.storeProblem = reason;
      return false;
    }
  }

  /** One timer at the current lease's expiry, so an expired lease is noticed (and logged) without a request. */
  private scheduleExpiry(): void {
    clearTimeout(this.expiryTimer);
    const at = this.election.leaseExpiresAt();
    if (at === null) return;
    const delay = Math.max(0, at - this.now()) + 1;
    this.expiryTimer = setTimeout(() => this.apply(() => this.expireStep()), delay);
    this.expiryTimer.unref?.();
  }

  private expireStep(): Decision<null> {
    const logs = this.election.expireIfDue();
    return { outcome: null, changed: logs.length > 0, logs };
  }

  emit(logs: DecisionLog[]): void {
    for (const entry of logs) {
      if (entry.event === "claim") {
        const key = `${entry.role}:${entry.term}`;
        if (this.lastClaimLogged.get(entry.node) === key) continue;
        if (this.lastClaimLogged.size > 10_000) this.lastClaimLogged.clear();
        this.lastClaimLogged.set(entry.node, key);
      }
      this.log(JSON.stringify({ ts: new Date(this.wallNow()).toISOString(), ...entry }));
    }
  }

  /** A line about the service itself (not a decision about a node). */
  incident(event: string, why: string): void {
    this.log(JSON.stringify({ ts: new Date(this.wallNow()).toISOString(), event, why }));
  }
}
