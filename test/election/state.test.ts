import { describe, expect, test } from "bun:test";
import { Election, emptySnapshot, type ElectionOptions } from "../../src/election/state.ts";

const ttl = 1000;

function setup(whitelist = ["a", "b", "c"]) {
  const clock = { t: 1_000_000 };
  const options: ElectionOptions = { whitelist, leaseTtlMs: ttl, now: () => clock.t };
  return { clock, options, election: new Election(options) };
}

describe("Election", () => {
  test("the roster says since when the head holds its lease", () => {
    const { election, clock } = setup();
    election.claim("a", "a:6379");
    clock.t += ttl / 2;
    expect(election.cluster().head?.since).toBe(new Date(1_000_000).toISOString());
  });

  test("a worker silent for three TTLs leaves the roster; one that keeps reporting stays", () => {
    const { election, clock } = setup();
    election.claim("a", "a:6379");
    election.ready("a", 1);
    election.join("w1", "w1");
    election.join("w2", "w2");
    for (let i = 0; i < 10; i++) {
      clock.t += ttl / 3;
      election.heartbeat("a", 1);
      election.join("w1", "w1");
    }
    expect(election.cluster().workers.map((w) => w.node)).toEqual(["w1"]);
  });

  test("restored workers are not pruned for the time the service was down", () => {
    const { election, clock, options } = setup();
    election.claim("a", "a:6379");
    election.ready("a", 1);
    election.join("w1", "w1");
    clock.t += 10 * ttl;
    const restored = Election.restore(options, election.snapshot()).outcome;
    expect(restored.cluster().workers.map((w) => w.node)).toEqual(["w1"]);
  });

  test("first whitelisted claimant is head; others wait, then become workers once it is ready", () => {
    const { election } = setup();
    expect(election.claim("a", "a:6379").outcome).toMatchObject({ role: "head", term: 1 });
    expect(election.claim("b", "b:6379").outcome).toMatchObject({ role: "wait", term: 1, retryAfterMs: ttl });
    expect(election.ready("a", 1).outcome.ok).toBe(true);
    expect(election.claim("b", "b:6379").outcome).toEqual({ role: "worker", term: 1, address: "a:6379" });
  });

  const cases: { name: string; run: (e: Election, clock: { t: number }) => unknown; expected: unknown }[] = [
    { name: "a node that is not whitelisted is never head", run: (e) => e.claim("x", "x:1").outcome, expected: { role: "wait", term: 0, retryAfterMs: ttl } },
    {
      name: "heartbeat with a stale term is fenced",
      run: (e) => (e.claim("a", "a:1"), e.heartbeat("a", 7).outcome.ok),
      expected: false,
    },
    {
      name: "heartbeat from another node is fenced",
      run: (e) => (e.claim("a", "a:1"), e.heartbeat("b", 1).outcome.ok),
      expected: false,
    },
    {
      name: "release frees the slot: the next claimant is head with term + 1",
      run: (e) => (e.claim("a", "a:1"), e.release("a", 1), e.claim("b", "b:1").outcome),
      expected: { role: "head", term: 2, leaseTtlMs: ttl, leaseExpiresAt: 1_000_000 + ttl },
    },
    {
      name: "a lease expires after the TTL without heartbeat",
      run: (e, clock) => (e.claim("a", "a:1"), (clock.t += ttl), e.claim("b", "b:1").outcome.role),
      expected: "head",
    },
    {
      name: "a heartbeat keeps the lease past the first TTL",
      run: (e, clock) => (e.claim("a", "a:1"), (clock.t += ttl - 1), e.heartbeat("a", 1), (clock.t += ttl - 1), e.claim("b", "b:1").outcome.role),
      expected: "wait",
    },
    {
      name: "an expired head is fenced on its late heartbeat",
      run: (e, clock) => (e.claim("a", "a:1"), (clock.t += ttl), e.heartbeat("a", 1).outcome.ok),
      expected: false,
    },
    {
      name: "the holder claiming again (a restarted container) gets a new term",
      run: (e) => (e.claim("a", "a:1"), e.claim("a", "a:1").outcome.term),
      expected: 2,
    },
    {
      name: "ready with a stale term is refused",
      run: (e) => (e.claim("a", "a:1"), e.claim("a", "a:1"), e.ready("a", 1).outcome.ok),
      expected: false,
    },
    {
      name: "join reports the ready head and its term",
      run: (e) => (e.claim("a", "a:1"), e.ready("a", 1), e.join("b", "b").outcome),
      expected: { ok: true, term: 1, head: "a:1" },
    },
    {
      name: "join reports no head when the lease is gone",
      run: (e, clock) => (e.claim("a", "a:1"), e.ready("a", 1), (clock.t += ttl), e.join("b", "b").outcome),
      expected: { ok: true, term: 1, head: null },
    },
    {
      name: "the head cannot join as a worker",
      run: (e) => (e.claim("a", "a:1"), e.join("a", "a").outcome.ok),
      expected: false,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { election, clock } = setup();
      expect(c.run(election, clock) as object).toEqual(c.expected as object);
    });
  }

  test("the roster lists workers with their term and when they were last seen", () => {
    const { election, clock } = setup();
    election.claim("a", "a:1");
    election.ready("a", 1);
    election.join("b", "b");
    clock.t += 200;
    const view = election.cluster();
    expect(view.head).toMatchObject({ node: "a", term: 1, ready: true, leaseRemainingMs: ttl - 200 });
    expect(view.workers).toEqual([{ node: "b", address: "b", term: 1, joinedAt: 1_000_000, lastSeen: 1_000_000, ageMs: 200 }]);
  });

  test("persisted changes: grants and joins change the state; plain heartbeats do not", () => {
    const { election } = setup();
    expect(election.claim("a", "a:1").changed).toBe(true);
    expect(election.claim("b", "b:1").changed).toBe(false);
    expect(election.ready("a", 1).changed).toBe(true);
    expect(election.heartbeat("a", 1).changed).toBe(false);
    expect(election.join("b", "b").changed).toBe(true);
    expect(election.join("b", "b").changed).toBe(false);
  });

  test("restore keeps the head and its term and gives the lease a fresh TTL", () => {
    const { election, options, clock } = setup();
    election.claim("a", "a:1");
    election.ready("a", 1);
    const saved = election.snapshot();
    clock.t += 10 * ttl; // the service was down for a long time
    const restored = Election.restore(options, saved).outcome;
    expect(restored.claim("b", "b:1").outcome).toEqual({ role: "worker", term: 1, address: "a:1" });
    expect(restored.heartbeat("a", 1).outcome.ok).toBe(true);
    clock.t += ttl; // and a holder that does not come back loses it after one TTL
    expect(restored.claim("b", "b:1").outcome).toMatchObject({ role: "head", term: 2 });
  });

  test("restore drops a head that is no longer whitelisted", () => {
    const { election, clock } = setup();
    election.claim("a", "a:1");
    const restored = Election.restore({ whitelist: ["b"], leaseTtlMs: ttl, now: () => clock.t }, election.snapshot());
    expect(restored.changed).toBe(true);
    expect(restored.outcome.claim("b", "b:1").outcome).toMatchObject({ role: "head", term: 2 });
  });
});

// ---------------------------------------------------------------- randomized interleavings

/** mulberry32: a small seeded PRNG so a failing interleaving can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("Election under 1,000 randomized interleavings", () => {
  test("at most one unexpired head lease at any time; terms only grow", () => {
    const whitelist = ["n0", "n1", "n2", "n3"];
    const nodes = [...whitelist, "outsider"];
    for (let seed = 1; seed <= 1000; seed++) {
      const random = prng(seed);
      const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
      const clock = { t: 1_000_000 };
      const options: ElectionOptions = { whitelist, leaseTtlMs: ttl, now: () => clock.t };
      let election = new Election(options, emptySnapshot());
      // What each node believes: the term it holds and until when (from the answers it got).
      const held = new Map<string, { term: number; until: number }>();
      let highestGranted = 0;
      let lastTerm = 0;
      const trace: string[] = [];

      for (let step = 0; step < 60; step++) {
        const node = pick(nodes);
        const mine = held.get(node);
        const op = pick(["claim", "claim", "ready", "heartbeat", "heartbeat", "release", "restart", "tick", "jump"]);
        trace.push(`${op}:${node}@${clock.t}`);
        if (op === "claim") {
          const { outcome } = election.claim(node, `${node}:1`);
          if (outcome.role === "head") {
            expect(whitelist).toContain(node);
            expect(outcome.term).toBeGreaterThan(highestGranted);
            highestGranted = outcome.term;
            held.set(node, { term: outcome.term, until: outcome.leaseExpiresAt });
          }
        } else if (op === "ready" || op === "heartbeat" || op === "release") {
          const term = mine?.term ?? 1 + Math.floor(random() * (highestGranted + 1));
          const { outcome } = election[op](node, term);
          if (outcome.ok && op === "release") held.delete(node);
          else if (outcome.ok) held.set(node, { term, until: outcome.leaseExpiresAt });
          else if (mine && mine.term === term) held.delete(node); // fenced: it must stop acting as head
        } else if (op === "restart") {
          election = Election.restore(options, election.snapshot()).outcome;
        } else if (op === "tick") {
          clock.t += Math.floor(random() * ttl * 0.5);
        } else {
          clock.t += Math.floor(random() * ttl * 3);
        }

        const live = [...held].filter(([, lease]) => lease.until > clock.t);
        if (live.length > 1) throw new Error(`seed ${seed}: two live leases ${JSON.stringify(live)} after ${trace.join(" ")}`);
        for (const [holder, lease] of live) {
          // A lease its holder believes in is the one the service has: nobody else was granted.
          expect(election.currentTerm).toBe(lease.term);
          expect(election.cluster().head?.node).toBe(holder);
        }
        expect(election.currentTerm).toBeGreaterThanOrEqual(lastTerm);
        lastTerm = election.currentTerm;
      }
    }
  });
});
