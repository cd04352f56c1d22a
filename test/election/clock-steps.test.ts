/**
 * The wall clock stepped under a running election service (the compiled `cslr health serve`
 * under libfaketime, whose offset file is re-read on every call; the monotonic clock is left
 * alone, as a real NTP step or a manual `date -s` leaves it). Leases run on the monotonic
 * clock, so:
 *   - stepped forward 1 h: a head that keeps renewing stays head (it was fenced within 0.2 s
 *     when leases followed the wall clock);
 *   - stepped back 1 h: a head that went silent loses its lease after TTL + margin (it kept it
 *     for 3,590 s).
 * Needs libfaketime (Debian's `libfaketime`; scripts/ci/install-docker.sh installs it): skipped
 * with a visible line without it, a failure under CSLR_E2E_REQUIRED=1.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeKey } from "../../src/election/auth.ts";
import { compiledCslr } from "../helpers/binary.ts";
import { freePort } from "../helpers/ports.ts";

const preload = ["/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1", "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1"].find(existsSync);
const token = "clock-token";
const ttlMs = 1000;
const dir = mkdtempSync(join(tmpdir(), "cslr-clock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let server: Bun.Subprocess | undefined;
afterEach(async () => {
  server?.kill("SIGKILL");
  await server?.exited;
  server = undefined;
});

const offsetFile = join(dir, "offset");
const step = (offset: string) => writeFileSync(offsetFile, `${offset}\n`);

async function startService(): Promise<string> {
  step("+0");
  const port = freePort();
  server = Bun.spawn(
    [
      await compiledCslr(),
      "health",
      "serve",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--whitelist",
      "a,b",
      "--state",
      join(dir, `state-${port}.json`),
      "--lease-ttl",
      `${ttlMs / 1000}s`,
    ],
    {
      env: {
        ...process.env,
        CSLR_CLUSTER_TOKEN: token,
        LD_PRELOAD: preload!,
        FAKETIME_TIMESTAMP_FILE: offsetFile,
        FAKETIME_NO_CACHE: "1",
        FAKETIME_DONT_FAKE_MONOTONIC: "1",
      },
      stdout: "ignore",
      stderr: "ignore",
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return url;
    await Bun.sleep(25);
  }
  throw new Error("the election service did not start");
}

async function call(url: string, node: string, path: string, body: object): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${nodeKey(token, node)}` },
    body: JSON.stringify({ node, ...body }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function headA(url: string): Promise<number> {
  const claim = await call(url, "a", "/v1/claim", { address: "a:6379" });
  expect(claim.body.role).toBe("head");
  const term = claim.body.term as number;
  expect((await call(url, "a", "/v1/ready", { term })).status).toBe(200);
  return term;
}

const describeFaketime = preload ? describe : process.env.CSLR_E2E_REQUIRED === "1" ? describe : describe.skip;
if (!preload) console.warn("faketime skipped: the wall-clock step tests need libfaketime (apt-get install libfaketime)");

describeFaketime("the wall clock stepped under the election service (libfaketime)", () => {
  test("libfaketime is installed", () => {
    expect(preload).toBeDefined();
  });

  test("stepped forward 1 h: the head keeps renewing and stays head; another node joins it", async () => {
    const url = await startService();
    const term = await headA(url);
    step("+1h");
    for (let i = 0; i < 6; i++) {
      await Bun.sleep(ttlMs / 3);
      const renewed = await call(url, "a", "/v1/heartbeat", { term });
      expect({ i, status: renewed.status }).toEqual({ i, status: 200 });
    }
    // Another node is told to join a, not made head.
    expect((await call(url, "b", "/v1/claim", { address: "b:6379" })).body).toMatchObject({ role: "worker", address: "a:6379", term });
  }, 30_000);

  test("stepped back 1 h: a silent head loses its lease after TTL + margin, not an hour", async () => {
    const url = await startService();
    const term = await headA(url);
    step("-1h");
    const started = Date.now();
    let granted: Record<string, unknown> | undefined;
    while (Date.now() - started < 10_000) {
      const claim = await call(url, "b", "/v1/claim", { address: "b:6379" });
      if (claim.body.role === "head") {
        granted = claim.body;
        break;
      }
      await Bun.sleep(100);
    }
    expect(granted?.term).toBeGreaterThan(term);
    // The old head's renewal is refused: it was fenced.
    expect((await call(url, "a", "/v1/heartbeat", { term })).status).toBe(409);
  }, 30_000);
});
