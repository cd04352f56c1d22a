/** The head's history in the election state: each term's node, start and end, kept across restarts. */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Election, grantMarginMs, maxHistory, type ElectionOptions } from "../../src/election/state.ts";
import { loadStateFile, writeStateFile } from "../../src/election/store.ts";

const ttl = 1000;

function setup() {
  const clock = { t: 5_000, wall: 1_700_000_000_000 };
  const options: ElectionOptions = { whitelist: ["a", "b"], leaseTtlMs: ttl, now: () => clock.t, wallNow: () => clock.wall };
  return { clock, options, election: new Election(options) };
}

test("a term starts at its grant and ends when its lease expires, is released, or its holder claims again", () => {
  const { election, clock } = setup();
  election.claim("a", "a:1", "ws1");
  expect(election.headHistory()).toEqual([{ term: 1, node: "a", host: "ws1", start: 1_700_000_000_000, end: null }]);
  clock.t += ttl;
  clock.wall += 60_000;
  // The service's expiry timer notices it (Election.expireIfDue), as does any request.
  election.expireIfDue();
  expect(election.headHistory()[0]!.end).toBe(1_700_000_060_000);
  clock.t += grantMarginMs(ttl);
  clock.wall += 5_000;
  election.claim("b", "b:1");
  election.release("b", 2);
  clock.wall += 1_000;
  election.claim("a", "a:1");
  clock.wall += 1_000;
  election.claim("a", "a:1");
  expect(election.headHistory().map((h) => [h.term, h.node, h.start - 1_700_000_000_000, h.end === null ? null : h.end - 1_700_000_000_000])).toEqual([
    [1, "a", 0, 60_000],
    [2, "b", 65_000, 65_000],
    [3, "a", 66_000, 67_000],
    [4, "a", 67_000, null],
  ]);
});

test("the history survives a snapshot and restore, a rolled-back step, and stays bounded", () => {
  const { election, options, clock } = setup();
  for (let i = 0; i < maxHistory + 5; i++) {
    clock.wall += 1;
    election.claim("a", "a:1");
  }
  expect(election.headHistory()).toHaveLength(maxHistory);
  expect(election.headHistory()[0]!.term).toBe(6);
  const restored = Election.restore(options, election.snapshot()).outcome;
  expect(restored.headHistory()).toEqual(election.headHistory());
  const before = restored.checkpoint();
  restored.claim("a", "a:1");
  restored.rollback(before);
  expect(restored.headHistory()).toEqual(election.headHistory());
});

test("the state file keeps the history; a file written before it loads with none", () => {
  const dir = mkdtempSync(join(tmpdir(), "cslr-history-"));
  try {
    const { election } = setup();
    election.claim("a", "a:1", "ws1");
    const path = join(dir, "election.json");
    writeStateFile(path, election.snapshot());
    const loaded = loadStateFile(path, () => 0);
    expect(loaded.kind).toBe("restored");
    expect(loaded.snapshot.history).toEqual([{ term: 1, node: "a", host: "ws1", start: 1_700_000_000_000, end: null }]);
    writeFileSync(path, JSON.stringify({ version: 2, term: 3, head: null, members: [] }));
    const old = loadStateFile(path, () => 0);
    expect(old.kind).toBe("restored");
    expect(new Election(setup().options, old.snapshot).headHistory()).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
