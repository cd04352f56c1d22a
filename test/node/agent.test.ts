/**
 * The node agent's decisions, on virtual time with a scripted election service and a scripted
 * Ray: when it becomes head, when it stops being head (fenced, or on its own at 2/3 of the TTL),
 * what it does on SIGTERM, and how it follows a new head.
 */
import { describe, expect, test } from "bun:test";
import { Agent, AgentExit, exitCodes, type AgentIo, type RayHandle } from "../../src/node/agent.ts";
import type { NodeClient, Outcome } from "../../src/node/client.ts";
import { parseSettings } from "../../src/node/settings.ts";
import { VirtualTime } from "../helpers/virtual-time.ts";

const ttl = 30_000;

type Answer = Outcome<any>;
type Script = Partial<
  Record<
    "claim" | "ready" | "heartbeat" | "release" | "join" | "part" | "waitForHead" | "watch" | "waitForHeadChange",
    (...args: any[]) => Answer | Promise<Answer>
  >
>;

function fakeClient(script: Script, calls: string[]): NodeClient {
  const method =
    (name: keyof Script) =>
    async (...args: unknown[]) => {
      calls.push(name);
      const handler = script[name];
      return handler ? handler(...args) : ({ kind: "ok", value: { ok: true } } as Answer);
    };
  return {
    claim: method("claim"),
    ready: method("ready"),
    heartbeat: method("heartbeat"),
    release: method("release"),
    join: method("join"),
    part: method("part"),
    waitForHead: method("waitForHead"),
    watch: method("watch"),
    waitForHeadChange: method("waitForHeadChange"),
  } as unknown as NodeClient;
}

interface FakeRelay {
  listen: string;
  targets: string[];
  closed: boolean;
  point(target: { host: string; port: number } | undefined): void;
  close(): void;
}

function fakeRay(): RayHandle & { exit(code: number): void; argv: string[][]; stops: number; env?: Record<string, string>; started?: Promise<boolean> } {
  let exit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  const handle = {
    argv: [] as string[][],
    stops: 0,
    running: true,
    exited,
    exit(code: number) {
      handle.running = false;
      exit(code);
    },
    async stop() {
      handle.stops += 1;
      handle.exit(0);
    },
  };
  return handle;
}

/** The `started` of the next fake Ray (undefined: it does not say when its node is up). */
let nextStarted: Promise<boolean> | undefined;

function setup(script: Script, env: Record<string, string> = {}) {
  const time = new VirtualTime();
  const calls: string[] = [];
  const lines: string[] = [];
  const rays: ReturnType<typeof fakeRay>[] = [];
  const relays: FakeRelay[] = [];
  const settings = parseSettings({ CSLR_HEALTH_URL: "http://health:8080", CSLR_NODE_NAME: "ray-cpu", ...env }, "fallback");
  // The head's watch is held by the service: by default answered "no news" after its hold.
  const never = new AbortController().signal;
  const watch = script.watch ?? (() => time.sleep(25_000, never).then(() => ok({ ok: true, stepDown: false })));
  const io: AgentIo = {
    client: fakeClient(
      {
        ...script,
        watch,
        waitForHeadChange: script.waitForHeadChange ?? (() => time.sleep(25_000, never).then(() => ok({ ready: true, node: "x", address: "x:6379" }))),
      },
      calls,
    ),
    now: time.now,
    sleep: time.sleep,
    log: (line) => lines.push(line),
    startRay: (argv, rayEnv) => {
      const ray = fakeRay();
      ray.started = nextStarted;
      ray.argv.push(argv);
      ray.env = rayEnv;
      rays.push(ray);
      return ray;
    },
    listenGcsProxy: async (host, port) => {
      const relay: FakeRelay = {
        listen: `${host}:${port}`,
        targets: [],
        closed: false,
        point: (t) => relay.targets.push(t ? `${t.host}:${t.port}` : "none"),
        close: () => (relay.closed = true),
      };
      relays.push(relay);
      return relay;
    },
    portOpen: async () => true,
    detectAddress: async () => "10.0.0.5",
  };
  const agent = new Agent(settings, io);
  const run = agent.run().catch((e) => (e instanceof AgentExit ? e.code : Promise.reject(e)));
  return { time, calls, lines, rays, relays, agent, run };
}

const ok = (value: unknown): Answer => ({ kind: "ok", value });
const head = (term = 1) => ok({ role: "head", term, leaseTtlMs: ttl });

describe("node agent as head", () => {
  test("renews every TTL/3 and keeps going while renewals succeed", async () => {
    const { time, calls, rays, agent, run } = setup({
      claim: () => head(),
      ready: () => ok({ ok: true, term: 1, leaseTtlMs: ttl }),
      heartbeat: () => ok({ ok: true, term: 1, leaseTtlMs: ttl }),
    });
    await time.advance(5 * ttl);
    expect(rays).toHaveLength(1);
    expect(rays[0]!.argv[0]).toContain("--head");
    expect(calls.filter((c) => c === "heartbeat").length).toBeGreaterThanOrEqual(14);
    agent.requestStop();
    expect(await time.run(run)).toBe(exitCodes.stopped);
    expect(calls.at(-1)).toBe("release");
  });

  test("stops Ray and exits 3 at 2/3 of the TTL without a renewal, before the service may grant anyone else", async () => {
    const { time, rays, lines, run } = setup({
      claim: () => head(),
      ready: () => ok({ ok: true, term: 1, leaseTtlMs: ttl }),
      heartbeat: () => ({ kind: "unreachable", reason: "connection refused" }),
    });
    const code = await time.run(run);
    expect(code).toBe(exitCodes.fenced);
    expect(rays[0]!.stops).toBe(1);
    // Ready was sent at t≈0; the agent must be gone by 2/3 TTL, well before TTL + margin.
    expect(time.t).toBeLessThanOrEqual((2 * ttl) / 3 + 1);
    expect(time.t).toBeGreaterThanOrEqual((2 * ttl) / 3 - ttl / 3);
    expect(lines.some((l) => l.includes("decision=step-down") && l.includes("no lease renewal"))).toBe(true);
  });

  test("heartbeats that never answer do not delay the self-fence", async () => {
    const budgets: number[] = [];
    const { time, rays, run } = setup({
      claim: () => head(),
      ready: () => ok({ ok: true, term: 1, leaseTtlMs: ttl }),
      heartbeat: (_term: number, timeoutMs: number) => {
        budgets.push(timeoutMs);
        return new Promise<Answer>(() => {}); // a socket that never answers, and a client that never times out
      },
    });
    expect(await time.run(run)).toBe(exitCodes.fenced);
    expect(time.t).toBeLessThanOrEqual((2 * ttl) / 3 + 1);
    expect(rays[0]!.stops).toBe(1);
    expect(Math.max(...budgets)).toBeLessThanOrEqual(ttl / 3);
  });

  test("a 409 from the service: fenced, Ray stopped, exit 3", async () => {
    let beats = 0;
    const { time, rays, run } = setup({
      claim: () => head(),
      ready: () => ok({ ok: true, term: 1, leaseTtlMs: ttl }),
      heartbeat: () =>
        ++beats < 3 ? ok({ ok: true, term: 1, leaseTtlMs: ttl }) : { kind: "fenced", term: 2, reason: "term 1 of ray-cpu is not current: b holds term 2" },
    });
    expect(await time.run(run)).toBe(exitCodes.fenced);
    expect(rays[0]!.stops).toBe(1);
  });

  test("Ray exits on its own: the lease is released at once and the agent exits with Ray's code", async () => {
    const { time, calls, rays, run } = setup({
      claim: () => head(),
      ready: () => ok({ ok: true, term: 1, leaseTtlMs: ttl }),
      heartbeat: () => ok({ ok: true, term: 1, leaseTtlMs: ttl }),
    });
    await time.advance(1000);
    rays[0]!.exit(7);
    expect(await time.run(run)).toBe(7);
    expect(calls).toContain("release");
  });
});

describe("node agent handing the head over", () => {
  test("SIGTERM while a claim is in flight and then granted: the lease is released at once, Ray never started", async () => {
    const released: number[] = [];
    let agentRef: Agent | undefined;
    const { time, rays, agent, run } = setup({
      // The stop arrives while the claim is on the wire; the service grants it all the same.
      claim: () => (agentRef?.requestStop(), head(7)),
      release: (term: number) => (released.push(term), ok({ ok: true, term, leaseTtlMs: ttl })),
    });
    agentRef = agent;
    expect(await time.run(run)).toBe(exitCodes.stopped);
    expect(rays).toHaveLength(0);
    expect(released).toEqual([7]);
  });

  test("SIGTERM: the lease is renewed while Ray stops, and released only once Ray has stopped", async () => {
    const order: string[] = [];
    const { time, rays, agent, run } = setup({
      claim: () => head(),
      ready: () => ok({ ok: true, term: 1, leaseTtlMs: ttl }),
      heartbeat: () => (order.push("heartbeat"), ok({ ok: true, term: 1, leaseTtlMs: ttl })),
      release: () => (order.push("release"), ok({ ok: true, term: 1, leaseTtlMs: ttl })),
    });
    await time.advance(1000);
    // Ray drains for two TTLs (measured: 19 s at TTL 10 s): without renewals the lease would expire under it.
    const ray = rays[0]!;
    ray.stop = async () => {
      order.push("ray-stop-begins");
      await time.sleep(2 * ttl, new AbortController().signal);
      order.push("ray-stopped");
      ray.exit(0);
    };
    agent.requestStop();
    expect(await time.run(run)).toBe(exitCodes.stopped);
    const begins = order.indexOf("ray-stop-begins");
    const stoppedAt = order.indexOf("ray-stopped");
    expect(order.slice(begins, stoppedAt).filter((c) => c === "heartbeat").length).toBeGreaterThanOrEqual(5);
    expect(order.indexOf("release")).toBeGreaterThan(stoppedAt);
  });

  test("a handover asked on the watch: Ray stops, the lease is released, and the node claims again (no exit)", async () => {
    let asked = false;
    let claims = 0;
    const never = new AbortController().signal;
    const { time, rays, calls, agent, run } = setup({
      claim: () => (++claims === 1 ? head() : ok({ role: "worker", term: 2, address: "ray-gpu:6380", leaseTtlMs: ttl })),
      ready: () => ok({ ok: true, term: 1, leaseTtlMs: ttl }),
      heartbeat: () => ok({ ok: true, term: 1, leaseTtlMs: ttl }),
      watch: async () => {
        while (!asked) await time.sleep(50, never);
        return ok({ ok: true, stepDown: true });
      },
      join: () => ok({ ok: true, term: 2, head: "ray-gpu:6380", leaseTtlMs: ttl }),
    });
    await time.advance(1000);
    asked = true;
    await time.advance(200);
    expect(rays[0]!.stops).toBe(1);
    expect(calls).toContain("release");
    expect(claims).toBe(2);
    // It follows the new head as a worker in the same process.
    expect(rays[1]!.argv[0]).toContain("--address=ray-gpu:6380");
    agent.requestStop();
    expect(await time.run(run)).toBe(exitCodes.stopped);
  });
});

describe("node agent following a head change", () => {
  test("a worker claims as soon as its head is gone, while its own Ray still drains; the new Ray starts after", async () => {
    const order: string[] = [];
    let claims = 0;
    let headGone = false;
    const never = new AbortController().signal;
    const { time, rays, agent, run } = setup({
      claim: () => (order.push(`claim ${++claims}`), claims === 1 ? ok({ role: "worker", term: 1, address: "ray-gpu:6380", leaseTtlMs: ttl }) : head(2)),
      join: () => ok({ ok: true, term: 1, head: headGone ? null : "ray-gpu:6380", leaseTtlMs: ttl }),
      waitForHeadChange: async () => {
        while (!headGone) await time.sleep(50, never);
        return ok({ ready: false });
      },
      ready: () => ok({ ok: true, term: 2, leaseTtlMs: ttl }),
      heartbeat: () => ok({ ok: true, term: 2, leaseTtlMs: ttl }),
    });
    await time.advance(1000);
    const worker = rays[0]!;
    worker.stop = async () => {
      order.push("worker-ray-stop-begins");
      await time.sleep(20_000, never);
      order.push("worker-ray-stopped");
      worker.exit(0);
    };
    headGone = true;
    await time.advance(25_000);
    expect(order.slice(1, 4)).toEqual(["worker-ray-stop-begins", "claim 2", "worker-ray-stopped"]);
    // The head's Ray started once the worker's had stopped.
    expect(rays).toHaveLength(2);
    expect(rays[1]!.argv[0]).toContain("--head");
    agent.requestStop();
    expect(await time.run(run)).toBe(exitCodes.stopped);
  });
});

describe("node agent electing", () => {
  test("with the service unreachable it waits and never starts Ray; one log line per reason", async () => {
    const { time, rays, lines, agent, run } = setup({ claim: () => ({ kind: "unreachable", reason: "connect ECONNREFUSED" }) });
    await time.advance(10 * 60_000);
    expect(rays).toHaveLength(0);
    expect(lines.filter((l) => l.includes("unreachable"))).toHaveLength(1);
    agent.requestStop();
    expect(await time.run(run)).toBe(exitCodes.stopped);
  });

  test("a refused key (401) ends the agent with exit 2", async () => {
    const { time, run, lines } = setup({ claim: () => ({ kind: "refused", status: 401, reason: "missing or wrong node key" }) });
    expect(await time.run(run)).toBe(exitCodes.settings);
    expect(lines.at(-1)).toContain("CSLR_CLUSTER_TOKEN");
  });

  test("waits, then follows the head as a worker with its address in ray start", async () => {
    let claims = 0;
    const { time, rays, run, agent } = setup({
      claim: () =>
        ++claims < 3
          ? ok({ role: "wait", term: 1, retryAfterMs: 500, why: "head a is starting", leaseTtlMs: ttl })
          : ok({ role: "worker", term: 1, address: "10.0.0.9:6379", leaseTtlMs: ttl }),
      waitForHead: () => ok({ ready: false }),
      join: () => ok({ ok: true, term: 1, head: "10.0.0.9:6379", leaseTtlMs: ttl }),
    });
    await time.advance(5000);
    expect(rays).toHaveLength(1);
    expect(rays[0]!.argv[0]).toContain("--address=10.0.0.9:6379");
    agent.requestStop();
    expect(await time.run(run)).toBe(exitCodes.stopped);
  });

  test("a worker whose service names a new head stops Ray and elects again", async () => {
    let joins = 0;
    let claims = 0;
    const { time, rays, calls, agent, run } = setup({
      claim: () => ok({ role: "worker", term: ++claims, address: claims === 1 ? "10.0.0.9:6379" : "10.0.0.8:6379", leaseTtlMs: ttl }),
      join: () => ok({ ok: true, term: ++joins > 2 ? 2 : 1, head: joins > 2 ? "10.0.0.8:6379" : "10.0.0.9:6379", leaseTtlMs: ttl }),
    });
    await time.advance(2 * ttl);
    expect(rays.map((r) => r.argv[0]!.find((a) => a.startsWith("--address=")))).toEqual(["--address=10.0.0.9:6379", "--address=10.0.0.8:6379"]);
    expect(rays[0]!.stops).toBe(1);
    agent.requestStop();
    expect(await time.run(run)).toBe(exitCodes.stopped);
    expect(calls.at(-1)).toBe("part");
  });
});

describe("node agent with GCS fault tolerance (the raylet outlives a head change)", () => {
  const gcsEnv = { CSLR_GCS_REDIS: "ray-redis:6379", CSLR_GCS_NAMESPACE: "lab", CSLR_GCS_PROXY_PORT: "24000" };

  test("a worker's Ray dials its own forwarder, which points at the head", async () => {
    const { time, rays, relays, agent, run } = setup(
      {
        claim: () => ok({ role: "worker", term: 1, address: "ray-cpu:6379", leaseTtlMs: ttl }),
        join: () => ok({ ok: true, term: 1, head: "ray-cpu:6379", leaseTtlMs: ttl }),
      },
      gcsEnv,
    );
    await time.advance(1000);
    expect(relays.map((r) => r.listen)).toEqual(["10.0.0.5:24000"]);
    expect(relays[0]!.targets).toEqual(["ray-cpu:6379"]);
    expect(rays[0]!.argv[0]).toContain("--address=10.0.0.5:24000");
    // Ray's reconnect window outlasts a failover at this TTL (2 × 30 s + 60 s).
    expect(rays[0]!.env).toEqual({
      RAY_agent_register_timeout_ms: "300000",
      RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S: "2",
      RAY_gcs_rpc_server_reconnect_timeout_s: "300",
    });
    agent.requestStop();
    expect(await time.run(run)).toBe(exitCodes.stopped);
    expect(relays[0]!.closed).toBe(true);
  });

  test("a new head named: the forwarder follows it and Ray keeps running (no stop, no second ray start)", async () => {
    let joins = 0;
    const { time, rays, relays, lines, agent, run } = setup(
      {
        claim: () => ok({ role: "worker", term: 1, address: "ray-cpu:6379", leaseTtlMs: ttl }),
        join: () => ok({ ok: true, term: ++joins > 2 ? 2 : 1, head: joins > 2 ? "ray-gpu:6380" : "ray-cpu:6379", leaseTtlMs: ttl }),
      },
      gcsEnv,
    );
    await time.advance(2 * ttl);
    expect(rays).toHaveLength(1);
    expect(rays[0]!.stops).toBe(0);
    expect(relays[0]!.targets).toEqual(["ray-cpu:6379", "ray-gpu:6380"]);
    expect(lines.some((l) => l.includes("decision=follow term=2 head=ray-gpu:6380"))).toBe(true);
    agent.requestStop();
    expect(await time.run(run)).toBe(exitCodes.stopped);
  });

  test("no ready head: the worker claims with its raylet running; granted, it stops its worker Ray, then starts the head's on the cluster's Redis", async () => {
    let headGone = false;
    let claims = 0;
    const never = new AbortController().signal;
    const { time, rays, relays, agent, run } = setup(
      {
        claim: () => (++claims === 1 ? ok({ role: "worker", term: 1, address: "ray-cpu:6379", leaseTtlMs: ttl }) : head(2)),
        join: () => ok({ ok: true, term: 1, head: headGone ? null : "ray-cpu:6379", leaseTtlMs: ttl }),
        waitForHeadChange: async () => {
          while (!headGone) await time.sleep(50, never);
          return ok({ ready: false });
        },
        ready: () => ok({ ok: true, term: 2, leaseTtlMs: ttl }),
        heartbeat: () => ok({ ok: true, term: 2, leaseTtlMs: ttl }),
      },
      { ...gcsEnv, CSLR_NODE_NAME: "ray-gpu" },
    );
    await time.advance(1000);
    headGone = true;
    await time.advance(2000);
    expect(claims).toBe(2);
    expect(rays).toHaveLength(2);
    expect(rays[0]!.stops).toBe(1);
    expect(rays[1]!.argv[0]).toContain("--head");
    expect(rays[1]!.env).toEqual({
      RAY_agent_register_timeout_ms: "300000",
      RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S: "2",
      RAY_gcs_rpc_server_reconnect_timeout_s: "300",
      RAY_REDIS_ADDRESS: "ray-redis:6379",
      RAY_external_storage_namespace: "lab",
    });
    // As head, nothing here dials another GCS through the forwarder.
    expect(relays[0]!.targets.at(-1)).toBe("none");
    agent.requestStop();
    expect(await time.run(run)).toBe(exitCodes.stopped);
  });

  test("without GCS fault tolerance nothing listens and Ray gets no Redis settings", async () => {
    const { time, rays, relays, agent, run } = setup({ claim: () => head(1), ready: () => ok({ ok: true, term: 1, leaseTtlMs: ttl }) });
    await time.advance(1000);
    expect(relays).toHaveLength(0);
    expect(rays[0]!.env).toEqual({ RAY_agent_register_timeout_ms: "300000", RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S: "2" });
    expect(rays[0]!.argv[0]!.some((a) => a.startsWith("--redis"))).toBe(false);
    agent.requestStop();
    expect(await time.run(run)).toBe(exitCodes.stopped);
  });
});

describe("node agent: ready means the head's node is registered", () => {
  test("the GCS port open is not enough: ready is reported once Ray says its node is up", async () => {
    let started!: (value: boolean) => void;
    nextStarted = new Promise<boolean>((resolve) => (started = resolve));
    const { time, calls, agent, run } = setup({ claim: () => head(1), ready: () => ok({ ok: true, term: 1, leaseTtlMs: ttl }) });
    await time.advance(2000);
    nextStarted = undefined;
    expect(calls).not.toContain("ready");
    started(true);
    await time.advance(100);
    expect(calls).toContain("ready");
    agent.requestStop();
    expect(await time.run(run)).toBe(exitCodes.stopped);
  });
});
