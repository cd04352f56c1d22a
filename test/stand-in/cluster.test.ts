/**
 * The stand-in `ray` on one host, with real processes: membership, the head's dial-back health
 * checks, losing the head, cluster ids, ports in use, node IPs that are not on the host, token
 * auth and the CLI's option checks. Multi-host cases are in netns.test.ts.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { hostname } from "node:os";
import { parseNodeSummary } from "../../src/page/ray-nodes.ts";
import { freePort } from "../helpers/ports.ts";
import { until } from "../helpers/until.ts";
import { headArgs, Kit, parseStatus, workerArgs } from "./testkit.ts";

let kit: Kit;

afterEach(async () => {
  await kit?.cleanup();
});

/** Every line the stand-in prints says it is the stand-in. */
function allLinesMarked(output: string): void {
  for (const line of output.split("\n").filter(Boolean)) expect(line).toContain("[ray stand-in]");
}

/** The source address of this host's default route, from `ip route get` (what Ray would pick). */
function defaultRouteSource(): string | undefined {
  if (!Bun.which("ip")) return undefined;
  const out = Bun.spawnSync(["ip", "-4", "route", "get", "8.8.8.8"], { stdout: "pipe", stderr: "ignore" }).stdout.toString();
  return /\bsrc (\S+)/.exec(out)?.[1] ?? (out ? undefined : "127.0.0.1");
}

describe("membership on one host", () => {
  test("head + 2 workers: ray status lists 3 alive nodes with their advertised addresses", async () => {
    kit = new Kit();
    const head = headArgs(["--num-cpus=2"]);
    const h = kit.ray("head1", head.args);
    await h.waitFor(/listening on/);
    const address = `127.0.0.1:${head.port}`;
    const w1 = kit.ray("worker1", workerArgs(address));
    const w2 = kit.ray("worker2", workerArgs(address, ["--node-ip-address=127.0.0.1", "--num-gpus=1"]));
    await w1.waitFor(/registered with/);
    await w2.waitFor(/registered with/);
    const nodes = await kit.statusLists(address, ["head1", "worker1", "worker2"]);
    const byName = Object.fromEntries(nodes.map((n) => [n.name, n]));
    expect(byName.head1!.role).toBe("head");
    expect(byName.worker1!.role).toBe("worker");
    // A worker advertises the source address of its route to the head: loopback here.
    expect(byName.worker1!.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(byName.worker2!.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(byName.worker2!.line).toContain("gpus=1");
    expect(byName.head1!.line).toContain("cpus=2");
    // The head advertises the source address of its default route (Ray's UDP-connect trick).
    const expected = defaultRouteSource();
    if (expected) expect(byName.head1!.address.split(":")[0]).toBe(expected);
    // Every node's advertised node-manager port answers the head's dial-back: nobody dies.
    expect(h.output).not.toContain("GCS health check failed");

    // `ray status` without --address asks this node's own head (state in RAY_STANDIN_DIR).
    const local = kit.ray("head1", ["status"]);
    expect(await local.exited).toBe(0);
    expect(
      parseStatus(local.output)
        .map((n) => n.name)
        .sort(),
    ).toEqual(["head1", "worker1", "worker2"]);

    // `ray stop` on a worker's node stops its `ray start` (SIGTERM, clean exit) and it unregisters.
    const stop = kit.ray("worker1", ["stop"]);
    expect(await stop.exited).toBe(0);
    expect(await w1.exited).toBe(0);
    await h.waitFor(/node worker1 left \(unregistered/);
    await kit.statusLists(address, ["head1", "worker2"]);
    for (const p of [h, w1, w2, stop, local]) allLinesMarked(p.output);
  }, 30_000);

  test("a frozen worker misses its health checks: the head drops it, and on waking it learns it is dead and exits 1", async () => {
    kit = new Kit();
    const head = headArgs();
    const h = kit.ray("head1", head.args, {
      RAY_health_check_initial_delay_ms: "200",
      RAY_health_check_period_ms: "300",
      RAY_health_check_timeout_ms: "300",
      RAY_health_check_failure_threshold: "3",
    });
    await h.waitFor(/listening on/);
    const address = `127.0.0.1:${head.port}`;
    const w = kit.ray("worker1", workerArgs(address, ["--node-ip-address=127.0.0.1"]));
    const registered = await w.waitFor(/advertises (127\.0\.0\.1:\d+)\)/);
    w.signal("SIGSTOP");
    // Its listener still accepts (the kernel does), but nobody answers: each check times out.
    await h.waitFor(
      new RegExp(`GCS health check failed for node worker1 at ${registered[1]!.replace(/\./g, "\\.")}: no answer within 300 ms.*\\(0 check\\(s\\) left\\)`),
    );
    await h.waitFor(/node worker1 at \S+ marked dead/);
    await kit.statusLists(address, ["head1"]);
    w.signal("SIGCONT");
    expect(await w.exited).toBe(1);
    expect(w.output).toContain("the head marked node worker1 dead");
  }, 30_000);

  test("the dashboard's node list (GET /nodes?view=summary, what `up --wait` reads): the head and its workers ALIVE, a dropped worker DEAD", async () => {
    kit = new Kit();
    const head = headArgs();
    const h = kit.ray("head1", head.args, {
      RAY_health_check_initial_delay_ms: "200",
      RAY_health_check_period_ms: "300",
      RAY_health_check_timeout_ms: "300",
      RAY_health_check_failure_threshold: "3",
    });
    await h.waitFor(/dashboard-port .* open/);
    const summary = async () => {
      const answer = await fetch(`http://127.0.0.1:${head.dashboardPort}/nodes?view=summary`);
      expect(answer.status).toBe(200);
      const nodes = parseNodeSummary(await answer.json());
      if (typeof nodes === "string") throw new Error(nodes);
      return nodes.map((n) => ({ ip: n.ip, hostname: n.hostname, alive: n.alive, isHead: n.isHead })).sort((x, y) => Number(y.isHead) - Number(x.isHead));
    };
    const headNode = (await summary())[0]!;
    expect(headNode).toMatchObject({ hostname: hostname(), alive: true, isHead: true });
    const w = kit.ray("worker1", workerArgs(`127.0.0.1:${head.port}`, ["--node-ip-address=127.0.0.1"]));
    await w.waitFor(/registered with/);
    expect(await summary()).toEqual([headNode, { ip: "127.0.0.1", hostname: hostname(), alive: true, isHead: false }]);
    w.signal("SIGSTOP");
    await h.waitFor(/node worker1 at \S+ marked dead/);
    expect(await summary()).toEqual([headNode, { ip: "127.0.0.1", hostname: "", alive: false, isHead: false }]);
    w.signal("SIGCONT");
    await w.exited;
  }, 30_000);
});

describe("losing the head", () => {
  test("the head gone: the worker retries and exits 1 after RAY_gcs_rpc_server_reconnect_timeout_s", async () => {
    kit = new Kit();
    const head = headArgs();
    const h = kit.ray("head1", head.args);
    await h.waitFor(/listening on/);
    // The smallest timeout the variable takes (whole seconds, as in Ray): the test waits it out.
    const w = kit.ray("worker1", workerArgs(`127.0.0.1:${head.port}`), { RAY_gcs_rpc_server_reconnect_timeout_s: "1" });
    await w.waitFor(/registered with/);
    const killedAt = Date.now();
    h.signal("SIGKILL");
    await w.waitFor(/lost the head/);
    expect(await w.exited).toBe(1);
    const took = Date.now() - killedAt;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(8000);
    expect(w.output).toContain("unreachable for more than 1 s (RAY_gcs_rpc_server_reconnect_timeout_s)");
  }, 30_000);

  test("a head that answers again within the timeout keeps the worker (frozen head, then a restart with the same cluster id)", async () => {
    kit = new Kit();
    const head = headArgs();
    const clusterId = "c".repeat(56);
    const h = kit.ray("head1", head.args, { RAY_STANDIN_CLUSTER_ID: clusterId });
    await h.waitFor(/listening on/);
    const address = `127.0.0.1:${head.port}`;
    const w = kit.ray("worker1", workerArgs(address), { RAY_gcs_rpc_server_reconnect_timeout_s: "20" });
    await w.waitFor(/registered with/);

    // Frozen head: the worker notices the silence, keeps retrying; the head wakes up in time.
    h.signal("SIGSTOP");
    await w.waitFor(/lost the head \S+ \(no answer/);
    h.signal("SIGCONT");
    await w.waitFor(/reconnected to head/);

    // Restarted head with the same cluster id (a GCS that keeps its state): the worker rejoins.
    h.signal("SIGKILL");
    await h.exited;
    const output = w.output.length;
    const h2 = kit.ray("head1b", head.args, { RAY_STANDIN_CLUSTER_ID: clusterId });
    await h2.waitFor(/listening on/);
    await until("the worker to reconnect to the restarted head", () => w.output.slice(output).includes("reconnected to head"));
    await kit.statusLists(address, ["head1b", "worker1"]);
    expect(w.exitCode).toBeUndefined();
  }, 40_000);

  test("a new head with another cluster id: the worker of the old head exits 1 at once", async () => {
    kit = new Kit();
    const head = headArgs();
    const h = kit.ray("head1", head.args);
    await h.waitFor(/listening on/);
    const address = `127.0.0.1:${head.port}`;
    const w = kit.ray("worker1", workerArgs(address), { RAY_gcs_rpc_server_reconnect_timeout_s: "60" });
    await w.waitFor(/registered with/);
    h.signal("SIGKILL");
    await h.exited;
    await w.waitFor(/lost the head/);
    const h2 = kit.ray("head2", head.args);
    await h2.waitFor(/listening on/);
    expect(await w.exited).toBe(1);
    expect(w.output).toContain("is another cluster now");
    await h2.waitFor(/node worker1 \(\S+\) refused: it belongs to cluster/);
    await kit.statusLists(address, ["head2"]);
  }, 30_000);
});

describe("failing to start, as Ray fails", () => {
  test("--node-ip-address not on this host: exit 1 with EADDRNOTAVAIL and a hint", async () => {
    kit = new Kit();
    const head = headArgs(["--node-ip-address=203.0.113.77"]);
    const h = kit.ray("head1", head.args);
    expect(await h.exited).toBe(1);
    expect(h.output).toMatch(/runtime env agent cannot listen on 203\.0\.113\.77:\d+: 203\.0\.113\.77 is not an address of this host \(EADDRNOTAVAIL\)/);
    expect(h.output).toContain("--node-ip-address must be an address this host has");
    // A worker the same (its head need not even exist: the node fails while starting).
    const w = kit.ray("worker1", workerArgs(`127.0.0.1:${freePort()}`, ["--node-ip-address=203.0.113.77"]));
    expect(await w.exited).toBe(1);
    expect(w.output).toContain("EADDRNOTAVAIL");
    allLinesMarked(h.output + w.output);
  });

  test("ports in use: GCS, node manager and client server are fatal and named; the dashboard is not (unless --include-dashboard=true)", async () => {
    kit = new Kit();
    const busy = Bun.listen({ hostname: "0.0.0.0", port: 0, socket: { data() {} } });
    try {
      const p = busy.port;
      const gcs = kit.ray(
        "head-gcs",
        headArgs().args.map((a) => (a.startsWith("--port=") ? `--port=${p}` : a)),
      );
      expect(await gcs.exited).toBe(1);
      expect(gcs.output).toContain(`GCS server cannot listen on 0.0.0.0:${p}: port ${p} is already in use (EADDRINUSE)`);

      const nm = kit.ray("worker-nm", workerArgs(`127.0.0.1:${freePort()}`, [`--node-manager-port=${p}`]));
      expect(await nm.exited).toBe(1);
      expect(nm.output).toContain(`node manager (raylet) cannot listen on 0.0.0.0:${p}: port ${p} is already in use`);

      const client = kit.ray(
        "head-client",
        headArgs().args.map((a) => (a.startsWith("--ray-client-server-port=") ? `--ray-client-server-port=${p}` : a)),
      );
      expect(await client.exited).toBe(1);
      expect(client.output).toContain(`Ray client server cannot listen on`);
      expect(client.output).toContain(`port ${p} is already in use`);

      const dash = headArgs([`--dashboard-host=0.0.0.0`]);
      const tolerated = kit.ray(
        "head-dash",
        dash.args.map((a) => (a.startsWith("--dashboard-port=") ? `--dashboard-port=${p}` : a)),
      );
      await tolerated.waitFor(/listening on/);
      // stderr and stdout are separate pipes: wait for the warning itself.
      await tolerated.waitFor(new RegExp(`dashboard cannot listen on 0\\.0\\.0\\.0:${p}: port ${p} is already in use \\(EADDRINUSE\\); continuing without it`));
      expect(tolerated.exitCode).toBeUndefined();

      const strict = kit.ray(
        "head-dash2",
        headArgs(["--include-dashboard=true", "--dashboard-host=0.0.0.0"]).args.map((a) => (a.startsWith("--dashboard-port=") ? `--dashboard-port=${p}` : a)),
      );
      expect(await strict.exited).toBe(1);
      expect(strict.output).toContain(`port ${p} is already in use`);
    } finally {
      busy.stop(true);
    }
  }, 30_000);

  test("option checks like Ray's CLI: unknown option, non-integer, missing value → 2; Ray's own parameter checks → 1", async () => {
    kit = new Kit();
    const cases: [string[], number, string][] = [
      [["start", "--head", "--block", "--bogus"], 2, "no such option --bogus"],
      [["start", "--head", "--block", "--num-cpus=1.5"], 2, 'invalid value for --num-cpus: "1.5" is not a valid integer'],
      [["start", "--head", "--block", "--num-gpus"], 2, "option --num-gpus requires an argument"],
      [["start", "--head", "--block=yes"], 2, "does not take a value"],
      [["start", "--head"], 2, "only with --block"],
      [["start", "--block"], 2, "needs --head or --address"],
      [["start", "--head", "--block", "--resources=notjson"], 1, "is not valid JSON"],
      [["start", "--head", "--block", '--resources={"GPU": 1}'], 1, "use --num-gpus instead"],
      [["start", "--head", "--block", "--min-worker-port=100"], 1, "must be 0 or between 1024 and 65535"],
      [["start", "--head", "--block", "--min-worker-port=20000", "--max-worker-port=19000"], 1, "must be higher than"],
      [["start", "--head", "--block", "--ray-client-server-port=80"], 1, "must be between 1024 and 65535"],
      // Real Ray 2.60 refuses ray-gpu's default client port inside its default worker range.
      [
        ["start", "--head", "--block", "--ray-client-server-port=10002"],
        1,
        "Ray component worker_ports is trying to use a port number 10002 that is used by other components",
      ],
      [
        ["start", "--head", "--block", "--port=21000", "--min-worker-port=20000", "--max-worker-port=22999"],
        1,
        "Ray component worker_ports is trying to use a port number 21000",
      ],
      [["frobnicate"], 2, "unsupported command"],
    ];
    for (const [args, code, message] of cases) {
      const p = kit.ray("opts", args);
      expect({ args, code: await p.exited }).toEqual({ args, code });
      expect(p.output).toContain(message);
      allLinesMarked(p.output);
    }
    const version = kit.ray("v", ["--version"]);
    expect(await version.exited).toBe(0);
    expect(version.output).toMatch(/^\[ray stand-in\] ray, version 2\.60\.0\+standin \(stand-in, not Ray\)\n$/);
  }, 30_000);
});

describe("token auth between nodes (RAY_AUTH_MODE=token)", () => {
  test("same token joins; no token or another token is refused (exit 1); token mode without a token cannot start", async () => {
    kit = new Kit();
    const head = headArgs();
    const token = { RAY_AUTH_MODE: "token", RAY_AUTH_TOKEN: "right-token-123" };
    const h = kit.ray("head1", head.args, token);
    await h.waitFor(/listening on/);
    expect(h.output).toContain("auth: RAY_AUTH_MODE=token, RAY_AUTH_TOKEN set (15 chars)");
    expect(h.output).not.toContain("right-token-123");
    const address = `127.0.0.1:${head.port}`;
    const good = kit.ray("good", workerArgs(address), token);
    await good.waitFor(/registered with/);

    const none = kit.ray("none", workerArgs(address), { RAY_AUTH_MODE: "", RAY_AUTH_TOKEN: "" });
    expect(await none.exited).toBe(1);
    expect(none.output).toContain("has token auth on and this node sent no token");

    const wrong = kit.ray("wrong", workerArgs(address), { RAY_AUTH_MODE: "token", RAY_AUTH_TOKEN: "wrong" });
    expect(await wrong.exited).toBe(1);
    expect(wrong.output).toContain("refused this node's token");
    await kit.statusLists(address, ["head1", "good"]);

    const missing = kit.ray("missing", headArgs().args, {
      RAY_AUTH_MODE: "token",
      RAY_AUTH_TOKEN: "",
      RAY_AUTH_TOKEN_PATH: `${kit.dir}/no-such-file`,
      HOME: kit.dir,
    });
    expect(await missing.exited).toBe(1);
    expect(missing.output).toContain("no token was found");
  }, 30_000);

  test("a head with RAY_AUTH_MODE unset but a token file turns auth on (as Ray's ray start --head); a worker without token mode is refused", async () => {
    kit = new Kit();
    const tokenFile = `${kit.dir}/token`;
    await Bun.write(tokenFile, "file-token\n");
    const head = headArgs();
    const h = kit.ray("head1", head.args, { RAY_AUTH_MODE: undefined, RAY_AUTH_TOKEN: undefined, RAY_AUTH_TOKEN_PATH: tokenFile });
    await h.waitFor(/listening on/);
    expect(h.output).toContain("token auth on (token from RAY_AUTH_TOKEN_PATH");
    const w = kit.ray("worker1", workerArgs(`127.0.0.1:${head.port}`), { RAY_AUTH_MODE: undefined, RAY_AUTH_TOKEN_PATH: tokenFile });
    expect(await w.exited).toBe(1);
    expect(w.output).toContain("sent no token");
    const ok = kit.ray("worker2", workerArgs(`127.0.0.1:${head.port}`), { RAY_AUTH_MODE: "token", RAY_AUTH_TOKEN_PATH: tokenFile });
    await ok.waitFor(/registered with/);
  }, 30_000);
});
