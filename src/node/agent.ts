/**
 * The node agent: what runs as PID 1 of every Ray container (`cslr node`). It asks the
 * election service which role this node has, runs Ray as head or worker, keeps the head's
 * lease alive, and follows the head the service names.
 *
 * Its promises:
 * - no split: a node becomes head only with a lease from the service; without the service it
 *   waits (there is no fallback head). A head that cannot renew its lease for 2/3 of the TTL
 *   stops Ray and exits, before the service may grant anyone else (TTL + margin);
 * - no answer is code: every answer is parsed (client.ts) and only used as data in argv;
 * - Ray never sees the cluster token: the agent keeps the node key, Ray gets an environment
 *   without it;
 * - exit codes: 0 stopped (SIGTERM), 2 bad settings or a key the service refuses, 3 fenced or
 *   self-fenced (the restart policy brings the node back to claim again), else Ray's own code.
 */
import { parseHostPort } from "../config/net.ts";
import type { ClaimAnswer, JoinAnswer, NodeClient, Outcome } from "./client.ts";
import type { GcsTarget } from "./gcs-proxy.ts";
import { rayStartArgv, rayStartEnvironment, type RayRole } from "./ray.ts";
import type { NodeSettings } from "./settings.ts";

export const exitCodes = { stopped: 0, settings: 2, fenced: 3 } as const;

export interface RayHandle {
  exited: Promise<number>;
  running: boolean;
  stop(): Promise<void>;
  /** True once Ray says its node is up and registered ("Ray runtime started."), false if it exits first. */
  started?: Promise<boolean>;
}

export interface AgentIo {
  client: NodeClient;
  /** Monotonic milliseconds. */
  now(): number;
  /** Resolves after ms, or early (without error) when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  log(line: string): void;
  /** Starts `ray start` with argv, and `env` added to the environment Ray gets. */
  startRay(argv: string[], env: Record<string, string>): RayHandle;
  /** Listens for this node's forwarder to the head's GCS (GCS fault tolerance). */
  listenGcsProxy(host: string, port: number): Promise<GcsRelay>;
  portOpen(host: string, port: number): Promise<boolean>;
  /** This host's address towards the election service (for `auto`). */
  detectAddress(): Promise<string | undefined>;
}

/** The forwarder to the head's GCS, as the agent drives it (gcs-proxy.ts). */
export interface GcsRelay {
  point(target: GcsTarget | undefined): void;
  close(): void;
}

type Elected = { role: "head"; term: number; ttlMs: number; grantedAt: number } | { role: "worker"; term: number; ttlMs: number; head: string };

/** Backoff between failed calls: 200 ms doubling to 2 s (a service back up is seen within 2 s). */
function nextDelay(previous: number): number {
  return previous === 0 ? 200 : Math.min(previous * 2, 2000);
}

export class Agent {
  private readonly stop = new AbortController();
  private address = "";
  private nodeIp: string | undefined;
  private lastReason = "";
  /** Set once this node has a roster entry: a stop then takes it off, whichever way the agent got there. */
  private joined = false;
  /** The stop of the Ray this node ran for the last head, still under way while it claims. */
  private retiring: Promise<void> | undefined;
  /** GCS fault tolerance: this node's forwarder to the head's GCS, and the address Ray dials it at. */
  private relay: { proxy: GcsRelay; address: string } | undefined;

  constructor(
    private readonly settings: NodeSettings,
    private readonly io: AgentIo,
  ) {}

  /** SIGTERM / SIGINT: finish cleanly (stop Ray, give up the lease or the roster entry). */
  requestStop(): void {
    this.stop.abort();
  }

  get stopping(): boolean {
    return this.stop.signal.aborted;
  }

  private say(fields: Record<string, string | number | undefined>): void {
    const parts = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => (typeof v === "string" && /[\s"]/.test(v) ? `${k}=${JSON.stringify(v)}` : `${k}=${v}`));
    this.io.log(`node=${this.settings.node} ${parts.join(" ")}`);
  }

  /** Logs a waiting reason once per change, so a long wait is one line, not thousands. */
  private sayOnce(reason: string, fields: Record<string, string | number | undefined>): void {
    if (reason === this.lastReason) return;
    this.lastReason = reason;
    this.say(fields);
  }

  async run(): Promise<number> {
    if (!(await this.resolveAddresses())) return exitCodes.stopped;
    this.say({ event: "start", address: this.address, "node-ip": this.nodeIp, election: this.settings.electionUrl });
    if (this.settings.explicitHead) return this.runExplicit(this.settings.explicitHead);
    let elected = await this.elect();
    while (elected && !this.stopping) {
      const outcome = elected.role === "head" ? await this.runHead(elected) : await this.runWorker(elected);
      // A worker that kept its raylet through a head change and was then granted the lease itself.
      if (typeof outcome === "object") elected = outcome;
      else if (outcome !== "re-elect") return this.finish(outcome);
      else elected = await this.elect();
    }
    await this.finishRetiring();
    // Granted the lease by a claim that was in flight when the stop came: this node never ran as
    // that head, and unreleased its lease would hold off every other node for a TTL.
    if (elected?.role === "head") await this.release(elected.term);
    await this.leaveRoster();
    this.say({ event: "stopped", why: "SIGTERM" });
    return this.finish(exitCodes.stopped);
  }

  private finish(code: number): number {
    this.relay?.proxy.close();
    return code;
  }

  /** A clean stop takes a worker off the roster at once (else it would stay for three TTLs). */
  private async leaveRoster(): Promise<void> {
    if (!this.joined) return;
    this.joined = false;
    await this.io.client.part();
  }

  /** `auto` addresses: the source address of this host's route to the election service. */
  private async resolveAddresses(): Promise<boolean> {
    const wantsDetect = this.settings.nodeAddress === "auto" || this.settings.nodeIp === "auto";
    let detected: string | undefined;
    let delay = 0;
    while (wantsDetect && !detected) {
      detected = await this.io.detectAddress();
      if (detected) break;
      this.sayOnce("no-route", { decision: "wait", why: `no route to the election service ${this.settings.electionUrl} yet; cannot tell this host's address` });
      delay = nextDelay(delay);
      await this.io.sleep(delay, this.stop.signal);
      if (this.stopping) return false;
    }
    this.address = this.settings.nodeAddress === "auto" ? detected! : this.settings.nodeAddress;
    this.nodeIp = this.settings.nodeIp === "auto" ? detected : this.settings.nodeIp;
    return true;
  }

  private get claimAddress(): string {
    return `${this.address}:${this.settings.headPort}`;
  }

  /** Claims until the service gives a role; waits (never guesses) while it cannot be reached. */
  private async elect(): Promise<Elected | undefined> {
    let delay = 0;
    while (!this.stopping) {
      const sentAt = this.io.now();
      const answer = await this.io.client.claim(this.claimAddress);
      if (answer.kind === "ok") {
        delay = 0;
        const claim: ClaimAnswer = answer.value;
        if (claim.role === "head") {
          this.lastReason = "";
          this.say({ decision: "head", term: claim.term, why: "granted the lease" });
          return { role: "head", term: claim.term, ttlMs: claim.leaseTtlMs, grantedAt: sentAt };
        }
        if (claim.role === "worker") {
          this.lastReason = "";
          this.say({ decision: "worker", term: claim.term, head: claim.address, why: "head is ready" });
          return { role: "worker", term: claim.term, ttlMs: claim.leaseTtlMs, head: claim.address };
        }
        this.sayOnce(`wait:${claim.why ?? ""}`, { decision: "wait", term: claim.term, why: claim.why ?? "no ready head yet" });
        // Until the lease could change hands, at most 5 s per poll, so SIGTERM is seen promptly.
        const seconds = Math.min(Math.max(claim.retryAfterMs, 50), 5000) / 1000;
        const head = await this.io.client.waitForHead(seconds);
        if (head.kind !== "ok") await this.io.sleep(200, this.stop.signal);
        continue;
      }
      if (answer.kind === "refused" && answer.status === 401) {
        this.say({ decision: "stop", why: `the election service refused this node's key (401): ${answer.reason}; is CSLR_CLUSTER_TOKEN the cluster's?` });
        throw new AgentExit(exitCodes.settings);
      }
      this.sayOnce(`${answer.kind}:${"reason" in answer ? answer.reason : ""}`, {
        decision: "wait",
        why: `${describeFailure(answer)}; a node never becomes head without the election service`,
      });
      delay = nextDelay(delay);
      await this.io.sleep(delay, this.stop.signal);
    }
    return undefined;
  }

  /**
   * Starts Ray once the Ray this node ran before (a worker of the last head) has stopped: that
   * stop runs while the node claims, so a candidate is granted the lease right after a release
   * rather than after its own Ray's drain (seconds with real Ray).
   */
  private async startRay(role: RayRole, ttlMs: number): Promise<RayHandle> {
    await this.finishRetiring();
    const argv = rayStartArgv(this.settings, role, this.nodeIp);
    this.say({ event: "ray-start", role: role.kind, head: role.kind === "worker" ? role.head : undefined });
    return this.io.startRay(argv, rayStartEnvironment(this.settings, role, ttlMs));
  }

  /**
   * The GCS address this node's Ray dials for `head`: with GCS fault tolerance, this node's
   * forwarder, pointed at the head (its listener made on first use); else the head itself.
   */
  private async gcsAddressFor(head: string): Promise<string> {
    const gcs = this.settings.gcs;
    const target = parseHostPort(head);
    if (!gcs || !target) return head;
    if (!this.relay) {
      const host = this.nodeIp ?? (await this.io.detectAddress());
      if (!host) return head;
      try {
        this.relay = { proxy: await this.io.listenGcsProxy(host, gcs.proxyPort), address: `${host}:${gcs.proxyPort}` };
      } catch (error) {
        this.say({ event: "gcs-proxy-failed", why: `cannot listen on ${host}:${gcs.proxyPort} (${String(error)}); Ray dials the head directly` });
        return head;
      }
    }
    this.relay.proxy.point(target);
    return this.relay.address;
  }

  private async finishRetiring(): Promise<void> {
    const retiring = this.retiring;
    this.retiring = undefined;
    await retiring;
  }

  /**
   * Runs Ray as head until stopped, fenced, self-fenced, asked to hand over, or Ray exits. On a
   * stop or a handover the lease is renewed while Ray stops and released after, so it never
   * expires under a head that is still stopping and the next head is granted at once. Returns
   * to electing only after a handover, once its Ray has stopped.
   */
  private async runHead(elected: Extract<Elected, { role: "head" }>): Promise<number | "re-elect"> {
    const { term, ttlMs } = elected;
    // The lease is renewed from the grant on, also while a worker Ray of the last head drains.
    const lease = new LeaseKeeper(this.io, this.stop.signal, term, ttlMs, elected.grantedAt, (f) => this.say(f));
    // This node's own GCS from now on: nothing here dials another head through the forwarder.
    this.relay?.proxy.point(undefined);
    const ray = await this.startRay({ kind: "head" }, ttlMs);
    const probeHost = this.nodeIp ?? "127.0.0.1";
    const portOpen = await this.waitFor(ray, lease, () => this.io.portOpen(probeHost, this.settings.headPort));
    // Ready once the head's own node is registered too: a worker that joins before that finds
    // no head node in the GCS and gives up ("No node info found for head node").
    if (portOpen && (await this.untilRegistered(ray, lease))) await lease.reportReady(ray);
    const end = await Promise.race([ray.exited.then((code) => ({ why: "ray" as const, code })), lease.done, stopped(this.stop.signal), lease.stepDownAsked]);
    if (end.why === "fenced" || end.why === "self-fence") {
      lease.cancel();
      this.say({ decision: "step-down", term, why: end.why === "fenced" ? `fenced: ${end.reason}` : end.reason });
      await ray.stop();
      return exitCodes.fenced;
    }
    if (end.why === "handover") this.say({ decision: "step-down", term, why: "asked to hand the head over; stopping Ray while the lease is renewed" });
    await ray.stop();
    lease.cancel();
    if (lease.ended) {
      this.say({ event: "lease-lost", term, why: "the lease ended while Ray stopped; nothing to release" });
      return this.stopping ? exitCodes.stopped : exitCodes.fenced;
    }
    await this.release(term);
    if (end.why === "handover" && !this.stopping) return "re-elect";
    if (end.why === "stop" || end.why === "handover") {
      this.say({ event: "stopped", why: "SIGTERM" });
      return exitCodes.stopped;
    }
    const code = end.why === "ray" && end.code !== 0 ? end.code : 1;
    this.say({ event: "ray-exit", code: end.why === "ray" ? end.code : undefined, why: "the Ray head exited; the restart policy brings this node back" });
    return code;
  }

  /** Until Ray says its node is up (true), or Ray exits, the lease ends or a stop is asked (false). */
  private async untilRegistered(ray: RayHandle, lease: LeaseKeeper): Promise<boolean> {
    if (!ray.started) return true;
    const end = await Promise.race([ray.started, lease.done.then(() => false), stopped(this.stop.signal).then(() => false)]);
    return end && ray.running && !lease.ended && !this.stopping;
  }

  /** Polls `check` every 50 ms until it is true, Ray exits, the lease ends or a stop is asked. */
  private async waitFor(ray: RayHandle, lease: LeaseKeeper, check: () => Promise<boolean>): Promise<boolean> {
    while (!this.stopping && ray.running && !lease.ended) {
      if (await check()) return true;
      await this.io.sleep(50, this.stop.signal);
    }
    return false;
  }

  private async release(term: number): Promise<void> {
    const answer = await this.io.client.release(term);
    if (answer.kind === "ok") this.say({ decision: "release", term, why: "clean shutdown" });
    else this.say({ event: "release-failed", term, why: `${describeFailure(answer)}; the lease expires by itself` });
  }

  /**
   * Runs Ray as a worker of `head`. Returns "re-elect" when the service names another head (or
   * Ray exits and its head is gone), else an exit code: 0 on SIGTERM, Ray's own code otherwise.
   * With GCS fault tolerance the raylet outlives a head change: the forwarder follows the new
   * head, and only a grant of the lease to this node itself ends its worker Ray.
   */
  private async runWorker(elected: Extract<Elected, { role: "worker" }>): Promise<number | "re-elect" | Elected> {
    let { head, term } = elected;
    const ttlMs = elected.ttlMs;
    // The roster entry goes out first: one small request, while starting Ray takes a while.
    this.joined = true;
    const first = await this.io.client.join(this.address);
    if (first.kind === "ok") this.say({ event: "joined", term: first.value.term, head: first.value.head ?? "none" });
    const ray = await this.startRay({ kind: "worker", head: await this.gcsAddressFor(head) }, ttlMs);
    const every = Math.max(50, Math.floor(ttlMs / 3));
    let watch = new HeadWatch(this.io, term);
    for (;;) {
      const tick = await Promise.race([
        ray.exited.then((code) => ({ why: "ray" as const, code })),
        stopped(this.stop.signal),
        this.io.sleep(every, this.stop.signal).then(() => ({ why: "tick" as const })),
        watch.next().then(() => ({ why: "tick" as const })),
      ]);
      if (tick.why === "stop") {
        await ray.stop();
        await this.leaveRoster();
        this.say({ event: "stopped", why: "SIGTERM" });
        return exitCodes.stopped;
      }
      const answer = await this.io.client.join(this.address);
      const named = answer.kind === "ok" ? answer.value : undefined;
      const moved = named !== undefined && (named.head !== head || named.term !== term);
      if (tick.why === "ray") {
        const target = parseHostPort(head);
        if (moved || (target && !(await this.io.portOpen(target.host, target.port)))) {
          this.say({ decision: "re-elect", why: `ray worker exited (${tick.code}) and head ${head} is no longer the cluster's head` });
          return "re-elect";
        }
        this.say({ event: "ray-exit", code: tick.code, why: "the Ray worker exited; the restart policy brings this node back" });
        return tick.code === 0 ? 1 : tick.code;
      }
      if (moved && this.relay) {
        const next = await this.followKeepingRay(named!, head, term, ray);
        if (next.kind === "head") return next.elected;
        if (next.kind === "follow") {
          ({ head, term } = next);
          watch = new HeadWatch(this.io, term);
        }
        continue;
      }
      if (moved) {
        this.say({
          decision: "re-elect",
          term: named!.term,
          why: `the service names head ${named!.head ?? "none"} (term ${named!.term}); this node follows ${head} (term ${term})`,
        });
        // Claim at once; the next Ray starts only once this one has stopped (startRay waits).
        this.retiring = ray.stop();
        return "re-elect";
      }
      if (answer.kind !== "ok") this.sayOnce(`join:${describeFailure(answer)}`, { event: "join-failed", why: `${describeFailure(answer)}; Ray keeps running` });
    }
  }

  /**
   * A head change under GCS fault tolerance. A new ready head: the forwarder points at it and
   * the raylet reconnects (the old head was fenced before the service named another). No
   * ready head yet: this node claims like any other, its raylet still running; granted the
   * lease, it stops its worker Ray (the head's Ray starts once that is done).
   */
  private async followKeepingRay(
    named: JoinAnswer,
    head: string,
    term: number,
    ray: RayHandle,
  ): Promise<{ kind: "follow"; head: string; term: number } | { kind: "head"; elected: Elected } | { kind: "wait" }> {
    let next = named.head === null ? undefined : { head: named.head, term: named.term };
    if (!next) {
      const sentAt = this.io.now();
      const claim = await this.io.client.claim(this.claimAddress);
      if (claim.kind === "ok" && claim.value.role === "head") {
        this.say({ decision: "head", term: claim.value.term, why: "granted the lease; stopping this node's worker Ray first" });
        this.retiring = ray.stop();
        return { kind: "head", elected: { role: "head", term: claim.value.term, ttlMs: claim.value.leaseTtlMs, grantedAt: sentAt } };
      }
      if (claim.kind === "ok" && claim.value.role === "worker") next = { head: claim.value.address, term: claim.value.term };
    }
    if (!next) {
      this.sayOnce(`keep:${term}`, { decision: "wait", term, why: `head ${head} (term ${term}) is gone and no new head is ready; the raylet keeps running` });
      return { kind: "wait" };
    }
    await this.gcsAddressFor(next.head);
    this.lastReason = "";
    this.say({
      decision: "follow",
      term: next.term,
      head: next.head,
      why: "GCS fault tolerance: the forwarder points at the new head; the raylet reconnects without a restart",
    });
    return { kind: "follow", ...next };
  }

  /** A fixed head address: no election. This node is that head, or a worker of it. */
  private async runExplicit(head: string): Promise<number> {
    const self = head === this.claimAddress || head === `${this.settings.node}:${this.settings.headPort}`;
    this.say({ decision: self ? "head" : "worker", head, why: "fixed head address; no election" });
    const ray = await this.startRay(self ? { kind: "head" } : { kind: "worker", head }, 0);
    const end = await Promise.race([ray.exited.then((code) => ({ why: "ray" as const, code })), stopped(this.stop.signal)]);
    if (end.why === "stop") {
      await ray.stop();
      this.say({ event: "stopped", why: "SIGTERM" });
      return exitCodes.stopped;
    }
    this.say({ event: "ray-exit", code: end.code });
    return end.code === 0 ? 1 : end.code;
  }
}

/**
 * A worker's held poll for "the head of my term is no longer the ready head": one request
 * at a time, kept across the worker's ticks. `next()` resolves when the service says so; a
 * failed poll is retried a second later (the regular join still runs every TTL/3).
 */
class HeadWatch {
  private pending: Promise<void> | undefined;
  constructor(
    private readonly io: AgentIo,
    private readonly term: number,
  ) {}

  next(): Promise<void> {
    this.pending ??= this.poll().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private lastNews = Number.NEGATIVE_INFINITY;

  private async poll(): Promise<void> {
    const never = new AbortController().signal;
    // News at most twice a second: a service that answers at once every time never makes a busy loop.
    const since = this.io.now() - this.lastNews;
    if (since < 500) await this.io.sleep(500 - since, never);
    for (;;) {
      const sentAt = this.io.now();
      const answer = await this.io.client.waitForHeadChange(this.term, 25);
      // Answered before its hold ran out: the head of this term is no longer the ready head.
      if (answer.kind === "ok" && (!answer.value.ready || this.io.now() - sentAt < 24_000)) {
        this.lastNews = this.io.now();
        return;
      }
      if (answer.kind !== "ok") await this.io.sleep(1000, never);
    }
  }
}

/** Thrown to end the agent with a code from deep inside a loop (a refused key). */
export class AgentExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function stopped(signal: AbortSignal): Promise<{ why: "stop" }> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve({ why: "stop" });
    else signal.addEventListener("abort", () => resolve({ why: "stop" }), { once: true });
  });
}

function describeFailure(answer: Outcome<unknown>): string {
  switch (answer.kind) {
    case "unreachable":
      return `election service unreachable (${answer.reason})`;
    case "refused":
      return `election service answered ${answer.status}: ${answer.reason}`;
    case "protocol":
      return `election service answer not understood (${answer.reason}); ignored`;
    case "fenced":
      return `fenced: ${answer.reason}`;
    case "ok":
      return "ok";
  }
}

type LeaseEnd = { why: "fenced"; reason: string } | { why: "self-fence"; reason: string };

/** How long the service holds the head's watch (protocol.ts watchHoldSeconds). */
const watchHoldSeconds = 25;

/**
 * The head's lease: reports ready, renews every TTL/3, and ends the lease itself when no
 * renewal has succeeded for 2/3 of the TTL. Renewals count from when they were *sent*, so the
 * agent's deadline is never later than the service's. It renews until cancelled, a SIGTERM
 * included: the agent cancels it only once Ray has stopped. A held watch tells it at once
 * when a handover is asked (a heartbeat answer says so too).
 */
export class LeaseKeeper {
  readonly done: Promise<LeaseEnd>;
  readonly stepDownAsked: Promise<{ why: "handover" }>;
  private askStepDown!: () => void;
  ended = false;
  private lastRenewedAt: number;
  private finish!: (end: LeaseEnd) => void;
  private readonly cancelled = new AbortController();

  constructor(
    private readonly io: AgentIo,
    private readonly stop: AbortSignal,
    private readonly term: number,
    private readonly ttlMs: number,
    grantedAt: number,
    private readonly say: (fields: Record<string, string | number | undefined>) => void,
  ) {
    this.lastRenewedAt = grantedAt;
    this.done = new Promise((resolve) => (this.finish = resolve));
    this.stepDownAsked = new Promise((resolve) => (this.askStepDown = () => resolve({ why: "handover" })));
    void this.loop();
    void this.watch();
  }

  /** Holds the watch while the lease lasts; a failed watch is retried after a second (the heartbeats still carry the news). */
  private async watch(): Promise<void> {
    while (!this.ended && !this.cancelled.signal.aborted) {
      const sentAt = this.io.now();
      const answer = await this.io.client.watch(this.term, watchHoldSeconds);
      if (answer.kind === "ok" && answer.value.stepDown) return this.askStepDown();
      if (answer.kind === "fenced") return;
      // A failed watch, or one answered at once without news, waits a second: never a busy loop.
      if (answer.kind !== "ok" || this.io.now() - sentAt < 1000) await this.io.sleep(1000, this.cancelled.signal);
    }
  }

  /** The deadline: 2/3 of the TTL after the last renewal that was sent and accepted. */
  get fenceAt(): number {
    return this.lastRenewedAt + (2 * this.ttlMs) / 3;
  }

  cancel(): void {
    this.cancelled.abort();
  }

  /** A call may take until the self-fence deadline, and no more than a renewal period. */
  private callBudget(): number {
    return Math.max(50, Math.min(Math.floor(this.ttlMs / 3), Math.round(this.fenceAt - this.io.now())));
  }

  /**
   * The call's answer, or "unreachable" once its budget is spent: the deadline is kept here,
   * not left to the call's own timeout, so nothing a socket does can keep a head past it.
   */
  private async beforeDeadline<T>(call: Promise<Outcome<T>>): Promise<Outcome<T>> {
    const budget = this.callBudget();
    const giveUp = new AbortController();
    const late = this.io
      .sleep(budget, AbortSignal.any([giveUp.signal, this.signal()]))
      .then((): Outcome<T> => ({ kind: "unreachable", reason: `no answer within ${budget} ms` }));
    try {
      return await Promise.race([call, late]);
    } finally {
      giveUp.abort();
    }
  }

  private end(end: LeaseEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.finish(end);
  }

  /** The renewals' own signal: only cancel() ends them (a SIGTERM does not: Ray is still stopping). */
  private signal(): AbortSignal {
    return this.cancelled.signal;
  }

  /** Tells the service the GCS port is open; retried until accepted, refused, or the lease ends. */
  async reportReady(ray: RayHandle): Promise<void> {
    while (!this.ended && !this.stop.aborted && ray.running) {
      const sentAt = this.io.now();
      const answer = await this.beforeDeadline(this.io.client.ready(this.term, this.callBudget()));
      if (answer.kind === "ok") {
        this.lastRenewedAt = Math.max(this.lastRenewedAt, sentAt);
        this.say({ decision: "ready", term: this.term, why: "GCS port open and Ray says its node is up" });
        return;
      }
      if (answer.kind === "fenced") return this.end({ why: "fenced", reason: answer.reason });
      await this.io.sleep(200, this.signal());
    }
  }

  private async loop(): Promise<void> {
    const every = Math.max(50, Math.floor(this.ttlMs / 3));
    let nextBeat = this.io.now() + every;
    while (!this.ended) {
      const now = this.io.now();
      if (now >= this.fenceAt) {
        return this.end({
          why: "self-fence",
          reason: `no lease renewal for ${Math.round(now - this.lastRenewedAt)} ms (2/3 of the ${this.ttlMs} ms TTL); stopping before the service may grant another head`,
        });
      }
      await this.io.sleep(Math.max(0, Math.min(nextBeat, this.fenceAt) - now), this.signal());
      if (this.cancelled.signal.aborted) return;
      if (this.io.now() < nextBeat) continue;
      nextBeat = this.io.now() + every;
      const sentAt = this.io.now();
      const answer = await this.beforeDeadline(this.io.client.heartbeat(this.term, this.callBudget()));
      if (answer.kind === "ok") {
        this.lastRenewedAt = Math.max(this.lastRenewedAt, sentAt);
        if (answer.value.stepDown) this.askStepDown();
      } else if (answer.kind === "fenced") return this.end({ why: "fenced", reason: answer.reason });
      else
        this.say({
          event: "heartbeat-failed",
          term: this.term,
          why: `${describeFailure(answer)}; self-fence in ${Math.max(0, Math.round(this.fenceAt - this.io.now()))} ms without a renewal`,
        });
    }
  }
}
