/**
 * Handover without an outage (issue 16, item 4): `cslr handover [NODE]` asks the head to step
 * down; its heartbeat and held watch say so; after its release the chosen successor (or anyone
 * but the old holder) is granted at once, and waiting candidates are woken by the release
 * rather than learning of it when their poll runs out.
 */
import { describe, expect, test } from "bun:test";
import { ElectionService } from "../../src/election/service.ts";
import { Election, handoverWindowMs, type ElectionOptions } from "../../src/election/state.ts";

const ttl = 30_000;

function setup(whitelist = ["a", "b", "c"]) {
  const clock = { t: 5_000, wall: 1_700_000_000_000 };
  const options: ElectionOptions = { whitelist, leaseTtlMs: ttl, now: () => clock.t, wallNow: () => clock.wall };
  const election = new Election(options);
  election.claim("a", "a:6379");
  election.ready("a", 1);
  for (const node of ["b", "c"]) election.join(node, `${node}:6379`);
  return { clock, election };
}

describe("Election.askHandover", () => {
  test("the holder hears it on its next heartbeat; its release grants the named node at once, nobody else", () => {
    const { election, clock } = setup();
    expect(election.heartbeat("a", 1).outcome).toEqual({ ok: true, term: 1, leaseTtlMs: ttl });
    expect(election.askHandover("c").outcome).toEqual({ ok: true, term: 1, from: "a", to: "c" });
    expect(election.heartbeat("a", 1).outcome).toEqual({ ok: true, term: 1, leaseTtlMs: ttl, stepDown: true });
    expect(election.stepDownAsked("a", 1)).toBe(true);
    expect(election.release("a", 1).outcome.ok).toBe(true);
    clock.t += 1;
    expect(election.claim("a", "a:6379").outcome).toMatchObject({ role: "wait" });
    expect(election.claim("b", "b:6379").outcome).toMatchObject({ role: "wait" });
    expect(election.claim("c", "c:6379").outcome).toMatchObject({ role: "head", term: 2 });
  });

  test("without a name anyone whitelisted but the old holder is granted at once; after the window the old holder may come back", () => {
    const { election, clock } = setup();
    election.askHandover(null);
    election.release("a", 1);
    expect(election.claim("a", "a:6379").outcome).toMatchObject({ role: "wait", retryAfterMs: handoverWindowMs(ttl) });
    clock.t += handoverWindowMs(ttl);
    expect(election.claim("a", "a:6379").outcome).toMatchObject({ role: "head", term: 2 });
  });

  test("refused with a reason: no head, a node not whitelisted, the head itself, a node that has not joined, nobody to take over", () => {
    const { election } = setup(["a", "b", "c", "d"]);
    expect(election.askHandover("x").outcome).toEqual({ ok: false, reason: "x is not whitelisted; expected a node of head_whitelist" });
    expect(election.askHandover("a").outcome).toEqual({ ok: false, reason: "a is already the head (term 1)" });
    expect(election.askHandover("d").outcome).toEqual({
      ok: false,
      reason: "d has not joined head a (term 1); expected a running whitelisted node (cslr status lists them)",
    });
    election.part("b");
    election.part("c");
    expect(election.askHandover(null).outcome).toEqual({ ok: false, reason: "no other whitelisted node has joined head a; nobody could take over" });
    expect(election.stepDownAsked("a", 1)).toBe(false);
    election.release("a", 1);
    expect(election.askHandover(null).outcome).toEqual({ ok: false, reason: "no head holds the lease; there is nothing to hand over" });
  });

  test("a release without a handover keeps the old rule: the next whitelisted claimant at once", () => {
    const { election } = setup();
    election.release("a", 1);
    expect(election.claim("b", "b:6379").outcome).toMatchObject({ role: "head", term: 2 });
  });
});

describe("ElectionService long-polls", () => {
  test("a release wakes the candidates' held polls at once, and a handover wakes the head's watch", async () => {
    const service = new ElectionService({ whitelist: ["a", "b"], leaseTtlMs: ttl, log: () => {} });
    service.apply(() => service.election.claim("a", "a:6379"));
    service.apply(() => service.election.ready("a", 1));
    service.apply(() => service.election.join("b", "b:6379"));
    const watch = service.watchLease("a", 1, 600);
    service.apply(() => service.election.askHandover("b"));
    expect(await watch).toBe(true);
    service.apply(() => service.election.ready("a", 1));
    service.apply(() => service.election.release("a", 1));
    // No ready head now: a held poll would run its full 600 s (far past the test timeout); the release wakes it.
    service.apply(() => service.election.claim("b", "b:6379"));
    const poll = service.waitForReadyHead(600);
    service.apply(() => service.election.release("b", 2));
    expect(await poll).toBeNull();
    service.stop();
  });
});
