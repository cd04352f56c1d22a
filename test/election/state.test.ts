import { describe, expect, test } from "bun:test";
import { Election, emptySnapshot, grantMarginMs, maxTerm, type ElectionOptions } from "../../src/election/state.ts";
import { seededRandom, seeds } from "../helpers/random.ts";

const ttl = 1000;
const margin = grantMarginMs(ttl);

function setup(whitelist = ["a", "b", "c"], extra: Partial<ElectionOptions> = {}) {
  const clock = { t: 5_000, wall: 1_700_000_000_000 };
  const options: ElectionOptions = { whitelist, leaseTtlMs: ttl, now: () => clock.t, wallNow: () => clock.wall, ...extra };
  return { clock, options, election: new Election(options) };
}

describe("Election", () => {
  test("a workstation whose nodes all went silent for three TTLs is named as gone, with its last report; rejoining or leaving clears it", () => {
    const { election, clock } = setup(["ray-cpu"]);
    election.claim("ray-cpu.ws1", "10.0.0.11:6379", "ws1");
    election.ready("ray-cpu.ws1", 1);
    election.join("ray-cpu.ws2", "10.0.0.12", "ws2");
    const lastReport = new Date(clock.wall).toISOString();
    // ws1's head keeps its lease; ws2 falls silent (its dockerd stopped and never came back).
    for (let i = 0; i < 12; i++) {
      clock.t += ttl / 3;
      clock.wall += ttl / 3;
      election.heartbeat("ray-cpu.ws1", 1);
      election.prune();
    }
    expect(election.cluster().workers).toEqual([]);
    expect(election.cluster().gone).toEqual([{ host: "ws2", address: "10.0.0.12", lastSeen: lastReport }]);
    election.join("ray-cpu.ws2", "10.0.0.12", "ws2");
    expect(election.cluster().gone).toEqual([]);
    for (let i = 0; i < 12; i++) {
      clock.t += ttl / 3;
      election.heartbeat("ray-cpu.ws1", 1);
      election.prune();
    }
    expect(election.cluster().gone?.map((g) => g.host)).toEqual(["ws2"]);
    election.leave("ws2");
    expect(election.cluster().gone).toEqual([]);
  });

  test("hosts a new head's term cleared from the roster are gone only if they do not rejoin within three TTLs", () => {
    const { election, clock } = setup(["ray-cpu"]);
    election.claim("ray-cpu.ws1", "10.0.0.11:6379", "ws1");
    election.ready("ray-cpu.ws1", 1);
    election.join("ray-cpu.ws2", "10.0.0.12", "ws2");
    election.release("ray-cpu.ws1", 1);
    election.claim("ray-cpu.ws1", "10.0.0.11:6379", "ws1");
    expect(election.cluster().workers).toEqual([]);
    const pass = (ms: number) => {
      for (let t = 0; t < ms; t += ttl / 4) {
        clock.t += ttl / 4;
        election.heartbeat("ray-cpu.ws1", 2);
      }
    };
    pass(2 * ttl);
    expect(election.cluster().gone).toEqual([]);
    pass(2 * ttl);
    expect(election.cluster().gone?.map((g) => g.host)).toEqual(["ws2"]);
  });

  test("the roster says since when the head holds its lease (wall clock)", () => {
    const { election, clock } = setup();
    election.claim("a", "a:6379");
    clock.t += ttl / 2;
    clock.wall += 123_456;
    expect(election.cluster().head?.since).toBe(new Date(1_700_000_000_000).toISOString());
  });

  test("first whitelisted claimant is head; others wait, then become workers once it is ready", () => {
    const { election } = setup();
    expect(election.claim("a", "a:6379").outcome).toMatchObject({ role: "head", term: 1, leaseTtlMs: ttl });
    expect(election.claim("b", "b:6379").outcome).toMatchObject({ role: "wait", term: 1, retryAfterMs: ttl });
    expect(election.ready("a", 1).outcome.ok).toBe(true);
    expect(election.claim("b", "b:6379").outcome).toEqual({ role: "worker", term: 1, address: "a:6379", leaseTtlMs: ttl });
  });

  test("a short whitelist entry names the service on every host; a full one only that node", () => {
    const { election } = setup(["ray-cpu", "ray-gpu.ws2"]);
    expect(election.isWhitelisted("ray-cpu.ws1")).toBe(true);
    expect(election.isWhitelisted("ray-cpu")).toBe(true);
    expect(election.isWhitelisted("ray-gpu.ws2")).toBe(true);
    expect(election.isWhitelisted("ray-gpu.ws1")).toBe(false);
    expect(election.isWhitelisted("ray-worker-1.ws1")).toBe(false);
  });

  const cases: { name: string; run: (e: Election, clock: { t: number }) => unknown; expected: unknown }[] = [
    { name: "a node that is not whitelisted is never head", run: (e) => e.claim("x", "x:1").outcome.role, expected: "wait" },
    { name: "heartbeat with a stale term is fenced", run: (e) => (e.claim("a", "a:1"), e.heartbeat("a", 7).outcome.ok), expected: false },
    { name: "heartbeat from another node is fenced", run: (e) => (e.claim("a", "a:1"), e.heartbeat("b", 1).outcome.ok), expected: false },
    {
      name: "release frees the slot at once: the next claimant is head with term + 1, no margin",
      run: (e) => (e.claim("a", "a:1"), e.release("a", 1), e.claim("b", "b:1").outcome),
      expected: { role: "head", term: 2, leaseTtlMs: ttl },
    },
    {
      name: "an expired lease is not granted to another node within the margin",
      run: (e, clock) => (e.claim("a", "a:1"), (clock.t += ttl + margin - 1), e.claim("b", "b:1").outcome.role),
      expected: "wait",
    },
    {
      name: "after expiry plus the margin another node is granted",
      run: (e, clock) => (e.claim("a", "a:1"), (clock.t += ttl + margin), e.claim("b", "b:1").outcome.role),
      expected: "head",
    },
    {
      name: "the last holder itself may claim again within the margin (it restarted)",
      run: (e, clock) => (e.claim("a", "a:1"), (clock.t += ttl + 1), e.claim("a", "a:1").outcome),
      expected: { role: "head", term: 2, leaseTtlMs: ttl },
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
      run: (e) => (e.claim("a", "a:1"), (e.claim("a", "a:1").outcome as { term: number }).term),
      expected: 2,
    },
    { name: "ready with a stale term is refused", run: (e) => (e.claim("a", "a:1"), e.claim("a", "a:1"), e.ready("a", 1).outcome.ok), expected: false },
    {
      name: "join reports the ready head and its term",
      run: (e) => (e.claim("a", "a:1"), e.ready("a", 1), e.join("b", "b").outcome),
      expected: { ok: true, term: 1, head: "a:1", leaseTtlMs: ttl },
    },
    {
      name: "join reports no head when the lease is gone",
      run: (e, clock) => (e.claim("a", "a:1"), e.ready("a", 1), (clock.t += ttl), e.join("b", "b").outcome),
      expected: { ok: true, term: 1, head: null, leaseTtlMs: ttl },
    },
    { name: "the head cannot join as a worker", run: (e) => (e.claim("a", "a:1"), e.join("a", "a").outcome.ok), expected: false },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { election, clock } = setup();
      expect(c.run(election, clock) as object).toEqual(c.expected as object);
    });
  }

  test("leases follow the monotonic clock: wall-clock steps of an hour change nothing", () => {
    const { election, clock } = setup();
    election.claim("a", "a:1");
    election.ready("a", 1);
    clock.wall += 3_600_000; // stepped forward: a healthy head is not fenced
    expect(election.heartbeat("a", 1).outcome.ok).toBe(true);
    clock.wall -= 7_200_000; // stepped back: a dead head still loses its lease after one TTL
    clock.t += ttl + margin;
    expect(election.claim("b", "b:1").outcome.role).toBe("head");
  });

  test("the roster lists members with host, term, join time and silence", () => {
    const { election, clock } = setup();
    election.claim("a", "a:1", "ws1");
    election.ready("a", 1);
    election.join("b", "10.0.0.6", "ws2");
    clock.t += 200;
    const view = election.cluster();
    expect(view.head).toMatchObject({ node: "a", host: "ws1", term: 1, ready: true, leaseRemainingMs: ttl - 200 });
    expect(view.workers).toEqual([{ node: "b", host: "ws2", address: "10.0.0.6", term: 1, joinedAt: 1_700_000_000_000, ageMs: 200 }]);
  });

  test("persisted changes: grants, joins and prunes change the state; plain heartbeats do not", () => {
    const { election, clock } = setup();
    expect(election.claim("a", "a:1").changed).toBe(true);
    expect(election.claim("b", "b:1").changed).toBe(false);
    expect(election.ready("a", 1).changed).toBe(true);
    expect(election.heartbeat("a", 1).changed).toBe(false);
    expect(election.join("b", "b").changed).toBe(true);
    expect(election.join("b", "b").changed).toBe(false);
    expect(election.prune().changed).toBe(false);
    clock.t += 3 * ttl + 1;
    election.claim("a", "a:1");
    expect(election.prune().changed).toBe(false); // the grant cleared the roster already
  });

  test("a member silent for three TTLs is pruned, stays pruned after a restart; one that keeps reporting stays", () => {
    const { election, clock, options } = setup();
    election.claim("a", "a:6379");
    election.ready("a", 1);
    election.join("w1", "w1");
    election.join("w2", "w2");
    for (let i = 0; i < 10; i++) {
      clock.t += ttl / 3;
      election.heartbeat("a", 1);
      election.join("w1", "w1");
    }
    const pruned = election.prune();
    expect(pruned.outcome.removed).toEqual(["w2"]);
    expect(pruned.changed).toBe(true);
    const restored = Election.restore(options, election.snapshot()).outcome;
    expect(restored.cluster().workers.map((w) => w.node)).toEqual(["w1"]);
  });

  test("a worker's clean stop takes it off the roster at once", () => {
    const { election } = setup();
    election.claim("a", "a:1");
    election.ready("a", 1);
    election.join("w1", "w1");
    expect(election.part("w1").changed).toBe(true);
    expect(election.cluster().workers).toEqual([]);
    expect(election.part("w1").changed).toBe(false);
  });

  test("a host leaving takes its members off the roster and gives up its head's lease", () => {
    const { election } = setup();
    election.claim("a", "10.0.0.5:6379", "ws1");
    election.ready("a", 1);
    election.join("w1", "10.0.0.5", "ws1");
    election.join("w2", "10.0.0.6", "ws2");
    expect(election.leave("ws1").outcome.removed.sort()).toEqual(["a", "w1"]);
    expect(election.cluster().head).toBeNull();
    expect(election.claim("b", "b:1").outcome.role).toBe("head");
  });

  test("the roster is bounded: the longest-silent member makes room", () => {
    const { election, clock } = setup(["a"], { maxMembers: 100 });
    election.claim("a", "a:1");
    election.ready("a", 1);
    for (let i = 0; i < 150; i++) {
      clock.t += 1;
      election.join(`w${i}`, `10.0.${Math.floor(i / 250)}.${i % 250}`);
    }
    const names = election.cluster().workers.map((w) => w.node);
    expect(names).toHaveLength(100);
    expect(names).not.toContain("w0");
    expect(names).toContain("w149");
  });

  test("restore keeps the head and its term; nobody else is granted before its fresh lease ends plus the margin", () => {
    const { election, options, clock } = setup();
    election.claim("a", "a:1");
    election.ready("a", 1);
    const saved = election.snapshot();
    clock.t += 10 * ttl; // the service was down for a long time
    const restored = Election.restore(options, saved).outcome;
    expect(restored.claim("b", "b:1").outcome).toEqual({ role: "worker", term: 1, address: "a:1", leaseTtlMs: ttl });
    expect(restored.heartbeat("a", 1).outcome.ok).toBe(true);
    clock.t += ttl; // a holder that does not come back loses it after one TTL, and others wait the margin
    expect(restored.claim("b", "b:1").outcome.role).toBe("wait");
    clock.t += margin;
    expect(restored.claim("b", "b:1").outcome).toMatchObject({ role: "head", term: 2 });
  });

  test("restore drops a head that is no longer whitelisted", () => {
    const { election, clock } = setup();
    election.claim("a", "a:1");
    const restored = Election.restore({ whitelist: ["b"], leaseTtlMs: ttl, now: () => clock.t, wallNow: () => clock.wall }, election.snapshot());
    expect(restored.changed).toBe(true);
    expect(restored.outcome.claim("b", "b:1").outcome).toMatchObject({ role: "head", term: 2 });
  });

  test("after lost state: terms continue above the floor, and nobody is granted for a TTL plus the margin", () => {
    const { election, clock } = setup();
    election.startAfterLostState(1_700_000_000_000);
    expect(election.claim("a", "a:1").outcome.role).toBe("wait");
    clock.t += ttl + margin;
    expect(election.claim("a", "a:1").outcome).toMatchObject({ role: "head", term: 1_700_000_000_001 });
  });

  test("the term space ends below 2^53: no term is ever granted twice", () => {
    const { options } = setup();
    const election = new Election(options, { ...emptySnapshot(), term: maxTerm - 1 });
    expect(election.claim("a", "a:1").outcome).toMatchObject({ role: "head", term: maxTerm });
    expect(election.claim("a", "a:1").outcome.role).toBe("unavailable");
    expect(election.currentTerm).toBe(maxTerm);
  });
});

// ---------------------------------------------------------------- randomized interleavings

describe("Election under randomized interleavings (seeded; replay one with CSLR_SEED=N)", () => {
  /**
   * What a node may believe: after a successful grant, ready or heartbeat *sent* at time s, it
   * acts as head until s + 2/3 TTL (the agent's self-fence, src/node/agent.ts), and at once
   * stops when fenced. The invariant: at no time do two nodes believe they are head.
   */
  test("at most one node acting as head at any time; terms only grow", () => {
    const whitelist = ["n0", "n1", "n2", "n3"];
    const nodes = [...whitelist, "outsider"];
    for (const seed of seeds(1000)) {
      const random = seededRandom(seed);
      const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
      const clock = { t: 5_000, wall: 1_700_000_000_000 };
      const options: ElectionOptions = { whitelist, leaseTtlMs: ttl, now: () => clock.t, wallNow: () => clock.wall };
      let election = new Election(options, emptySnapshot());
      const acting = new Map<string, { term: number; until: number }>();
      let highestGranted = 0;
      let lastTerm = 0;
      const trace: string[] = [];

      for (let step = 0; step < 60; step++) {
        const node = pick(nodes);
        const mine = acting.get(node);
        const op = pick(["claim", "claim", "ready", "heartbeat", "heartbeat", "release", "restart", "tick", "jump", "wall"]);
        trace.push(`${op}:${node}@${clock.t}`);
        const sentAt = clock.t;
        if (op === "claim") {
          const { outcome } = election.claim(node, `${node}:1`);
          if (outcome.role === "head") {
            expect(whitelist).toContain(node);
            expect(outcome.term).toBeGreaterThan(highestGranted);
            highestGranted = outcome.term;
            acting.set(node, { term: outcome.term, until: sentAt + (2 * ttl) / 3 });
          }
        } else if (op === "ready" || op === "heartbeat" || op === "release") {
          const term = mine?.term ?? 1 + Math.floor(random() * (highestGranted + 1));
          const { outcome } = election[op](node, term);
          if (outcome.ok && op === "release") acting.delete(node);
          else if (outcome.ok && mine) acting.set(node, { term, until: sentAt + (2 * ttl) / 3 });
          else if (!outcome.ok && mine) acting.delete(node); // fenced: it stops acting as head
        } else if (op === "restart") {
          election = Election.restore(options, election.snapshot()).outcome;
        } else if (op === "tick") {
          clock.t += Math.floor(random() * ttl * 0.5);
        } else if (op === "jump") {
          clock.t += Math.floor(random() * ttl * 3);
        } else {
          clock.wall += Math.floor((random() - 0.5) * 7_200_000);
        }

        const live = [...acting].filter(([, belief]) => belief.until > clock.t);
        if (live.length > 1) throw new Error(`seed ${seed}: two nodes acting as head ${JSON.stringify(live)} after ${trace.join(" ")}`);
        expect(election.currentTerm).toBeGreaterThanOrEqual(lastTerm);
        lastTerm = election.currentTerm;
      }
    }
  });
});

describe("the service's answers, as the node agent reads them", () => {
  test("claims under a fractional monotonic clock: every outcome parses with the agent's schema (whole-ms retryAfterMs)", async () => {
    const { claimAnswer } = await import("../../src/node/client.ts");
    const { election, clock } = setup(["a", "b"], { leaseTtlMs: 6000 });
    const random = seededRandom(seeds(1, "retryAfterMs conformance")[0]!);
    const bad: string[] = [];
    for (let i = 0; i < 2000; i++) {
      clock.t += random() * 700 + 0.123;
      const node = random() < 0.5 ? "a" : "b";
      const { outcome } = election.claim(node, `${node}:6379`);
      // Heads get ready only now and then, so others also wait on a starting head.
      if (outcome.role === "head" && random() < 0.3) election.ready(node, outcome.term);
      const parsed = claimAnswer.safeParse(outcome);
      if (!parsed.success) bad.push(`${JSON.stringify(outcome)}: ${parsed.error.issues[0]?.message}`);
    }
    expect(bad.slice(0, 3)).toEqual([]);
  });
});
