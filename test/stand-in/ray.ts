#!/usr/bin/env bun
/**
 * A STAND-IN for the `ray` CLI, for tests on machines where Ray cannot be installed. It is not
 * Ray: it only imitates what the cslr entrypoint relies on, and every line it prints starts
 * with `[ray stand-in]`.
 *
 *   ray start --head --port P [--node-ip-address IP] --block
 *       after $RAY_STANDIN_HEAD_DELAY_MS (default 0) listens on IP:P (0.0.0.0 without
 *       --node-ip-address), keeps a roster of the nodes that register, runs until stopped.
 *   ray start --address H:P [--node-ip-address IP] --block
 *       connects to H:P (retrying for $RAY_STANDIN_CONNECT_TIMEOUT_MS, default 10000),
 *       registers as $CSLR_NODE_NAME (default the hostname) and stays connected; exits 1 when
 *       the head goes away, as a Ray worker eventually does.
 *   ray stop      stops the `ray start` processes of this node (SIGTERM), waits for them.
 *   ray status [--address H:P]
 *       asks the head (this node's own head without --address) for its node list.
 *
 * Per-node state (pid files, the local head's port) lives in $RAY_STANDIN_DIR, default
 * /tmp/ray-standin-$CSLR_NODE_NAME, so several nodes on one machine do not collide.
 *
 * Wire protocol on the head port, one line each: `REGISTER <node> <address>` (kept open),
 * `STATUS` (the head answers `NODE <name> <role> <address>` lines and `END`, then closes).
 *
 * Self-contained on purpose (no imports from the repo): it is compiled with
 * `bun build --compile` into a binary baked into test images as /usr/local/bin/ray.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Socket, TCPSocketListener } from "bun";

const prefix = "[ray stand-in]";
const nodeName = process.env.CSLR_NODE_NAME || hostname();
const stateDir = process.env.RAY_STANDIN_DIR || `/tmp/ray-standin-${nodeName}`;

function say(message: string): void {
  process.stdout.write(`${prefix} ${message}\n`);
}

function fail(message: string, code = 1): never {
  process.stderr.write(`${prefix} error: ${message}\n`);
  process.exit(code);
}

/** `--flag value` and `--flag=value` → map; bare `--flag` → "true". */
function parseFlags(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) continue;
    const eq = arg.indexOf("=");
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("--")) flags.set(arg.slice(2), argv[++i]!);
    else flags.set(arg.slice(2), "true");
  }
  return flags;
}

function splitHostPort(address: string): { host: string; port: number } {
  const match = /^(.+):(\d+)$/.exec(address);
  if (!match) fail(`--address ${address}: expected host:port`, 2);
  return { host: match[1]!, port: Number(match[2]) };
}

/** Says (without the secret) whether Ray's token auth would be on, so tests can check the pass-through. */
function sayAuth(): void {
  if (process.env.RAY_AUTH_MODE === "token") {
    say(`auth: RAY_AUTH_MODE=token, RAY_AUTH_TOKEN ${process.env.RAY_AUTH_TOKEN ? `set (${process.env.RAY_AUTH_TOKEN.length} chars)` : "MISSING"}`);
  }
}

function writePidFile(role: string): void {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, `${role}.${process.pid}.pid`), String(process.pid));
}

function removePidFile(role: string): void {
  rmSync(join(stateDir, `${role}.${process.pid}.pid`), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- head

interface Member {
  node: string;
  address: string;
}

/**
 * A real head also serves the Ray client and the dashboard; the stand-in holds those ports
 * open (accepting and idling) so `cslr test` can check they are reachable through the host.
 */
function openSideListeners(flags: Map<string, string>, host: string): void {
  for (const flag of ["ray-client-server-port", "dashboard-port"]) {
    const port = Number(flags.get(flag) ?? "0");
    if (!(port > 0)) continue;
    try {
      Bun.listen({ hostname: host, port, socket: { data() {} } });
      say(`${flag} ${host}:${port} open (stand-in: accepts and idles)`);
    } catch (error) {
      say(`cannot open ${flag} ${host}:${port}: ${(error as Error).message}`);
    }
  }
}

async function startHead(flags: Map<string, string>): Promise<void> {
  const port = Number(flags.get("port") ?? "6379");
  const host = flags.get("node-ip-address") ?? "0.0.0.0";
  const delayMs = Number(process.env.RAY_STANDIN_HEAD_DELAY_MS ?? "0");
  writePidFile("head");
  say(`starting head ${nodeName} (this is a stand-in, not Ray); port ${host}:${port} opens in ${delayMs} ms`);
  sayAuth();
  say(`flags: ${[...flags].map(([k, v]) => (v === "true" ? `--${k}` : `--${k}=${v}`)).join(" ")}`);

  const members = new Map<Socket<{ buffer: string }>, Member>();
  let listener: TCPSocketListener<{ buffer: string }> | undefined;
  const stop = (signal: string) => {
    say(`head ${nodeName} stopping on ${signal}`);
    listener?.stop(true);
    removePidFile("head");
    rmSync(join(stateDir, "head.json"), { force: true });
    process.exit(0);
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  if (delayMs > 0) await Bun.sleep(delayMs);
  try {
    listener = Bun.listen<{ buffer: string }>({
      hostname: host,
      port,
      socket: {
        open(socket) {
          socket.data = { buffer: "" };
        },
        data(socket, chunk) {
          socket.data.buffer += chunk.toString();
          let nl: number;
          while ((nl = socket.data.buffer.indexOf("\n")) >= 0) {
            const line = socket.data.buffer.slice(0, nl).trim();
            socket.data.buffer = socket.data.buffer.slice(nl + 1);
            const [verb, node, address] = line.split(" ");
            if (verb === "REGISTER" && node) {
              members.set(socket, { node, address: address ?? "" });
              say(`node ${node} registered (${members.size} worker(s)) at ${Date.now()}`);
              socket.write("OK\n");
            } else if (verb === "STATUS") {
              const lines = [`NODE ${nodeName} head ${host}:${port}`, ...[...members.values()].map((m) => `NODE ${m.node} worker ${m.address}`)];
              socket.end(`${lines.join("\n")}\nEND\n`);
            }
          }
        },
        close(socket) {
          const member = members.get(socket);
          if (member) {
            members.delete(socket);
            say(`node ${member.node} left (${members.size} worker(s))`);
          }
        },
        error() {},
      },
    });
  } catch (error) {
    removePidFile("head");
    fail(`cannot listen on ${host}:${port}: ${(error as Error).message}`);
  }
  openSideListeners(flags, host);
  writeFileSync(join(stateDir, "head.json"), JSON.stringify({ host: host === "0.0.0.0" ? "127.0.0.1" : host, port }));
  say(`head ${nodeName} listening on ${host}:${port} (GCS stand-in) at ${Date.now()}`);
  await new Promise(() => {});
}

// ---------------------------------------------------------------- worker

async function connectOnce(host: string, port: number, onLine: (line: string) => void, onClose: () => void): Promise<Socket<undefined>> {
  return Bun.connect({
    hostname: host,
    port,
    socket: {
      data(_socket, chunk) {
        for (const line of chunk.toString().split("\n")) if (line) onLine(line);
      },
      // The peer closing its side (`end`) counts as the connection going away.
      end(socket) {
        socket.end();
        onClose();
      },
      close: onClose,
      error() {},
    },
  });
}

async function startWorker(flags: Map<string, string>): Promise<void> {
  const { host, port } = splitHostPort(flags.get("address")!);
  const myAddress = flags.get("node-ip-address") ?? nodeName;
  const deadline = Date.now() + Number(process.env.RAY_STANDIN_CONNECT_TIMEOUT_MS ?? "10000");
  writePidFile("worker");
  say(`starting worker ${nodeName} (this is a stand-in, not Ray) for head ${host}:${port}`);
  sayAuth();
  let stopping = false;
  const stop = (signal: string) => {
    stopping = true;
    say(`worker ${nodeName} stopping on ${signal}`);
    removePidFile("worker");
    process.exit(0);
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  let lost!: () => void;
  const closed = new Promise<void>((resolve) => (lost = resolve));
  let connected = false;
  while (true) {
    try {
      const onLine = (line: string) => line === "OK" && say(`worker ${nodeName} registered with ${host}:${port}`);
      // A failed attempt may also report a close; only a connection that was made can be lost.
      const socket = await connectOnce(host, port, onLine, () => connected && lost());
      connected = true;
      socket.write(`REGISTER ${nodeName} ${myAddress}\n`);
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        removePidFile("worker");
        fail(`cannot reach head ${host}:${port}: ${(error as Error).message}`);
      }
      await Bun.sleep(100);
    }
  }
  await closed;
  if (stopping) return;
  removePidFile("worker");
  say(`worker ${nodeName} lost its head ${host}:${port}; exiting`);
  process.exit(1);
}

// ---------------------------------------------------------------- stop / status

async function stopAll(): Promise<void> {
  const pids = existsSync(stateDir)
    ? readdirSync(stateDir).filter((f) => f.endsWith(".pid")).map((f) => Number(readFileSync(join(stateDir, f), "utf8")))
    : [];
  const running = pids.filter((pid) => pid !== process.pid && alive(pid));
  for (const pid of running) process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 5000;
  while (running.some(alive) && Date.now() < deadline) await Bun.sleep(20);
  for (const pid of running.filter(alive)) process.kill(pid, "SIGKILL");
  for (const f of existsSync(stateDir) ? readdirSync(stateDir) : []) if (f.endsWith(".pid")) rmSync(join(stateDir, f), { force: true });
  say(`stopped ${running.length} process(es) of node ${nodeName}`);
}

async function status(flags: Map<string, string>): Promise<void> {
  let target = flags.get("address");
  if (!target) {
    const file = join(stateDir, "head.json");
    if (!existsSync(file)) fail(`no head runs on node ${nodeName}; pass --address H:P`);
    const { host, port } = JSON.parse(readFileSync(file, "utf8")) as { host: string; port: number };
    target = `${host}:${port}`;
  }
  const { host, port } = splitHostPort(target);
  const lines: string[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  try {
    const onLine = (line: string) => (line === "END" ? done() : lines.push(line));
    const socket = await connectOnce(host, port, onLine, () => done());
    socket.write("STATUS\n");
  } catch (error) {
    fail(`cannot reach head ${target}: ${(error as Error).message}`);
  }
  await Promise.race([finished, Bun.sleep(5000)]);
  const nodes = lines.filter((l) => l.startsWith("NODE "));
  say(`cluster at ${target}: ${nodes.length} node(s)`);
  for (const line of nodes) say(line);
}

// ---------------------------------------------------------------- main

const [command, ...rest] = process.argv.slice(2);
const flags = parseFlags(rest);
switch (command) {
  case "start":
    if (flags.get("block") !== "true") fail("this stand-in supports `ray start` only with --block", 2);
    if (flags.get("head") === "true") await startHead(flags);
    else if (flags.has("address")) await startWorker(flags);
    else fail("ray start needs --head or --address", 2);
    break;
  case "stop":
    await stopAll();
    break;
  case "status":
    await status(flags);
    // Do not linger on a half-closed socket.
    process.exit(0);
  case "--version":
  case "version":
    say("ray stand-in 0.0.0 (not Ray)");
    break;
  default:
    fail(`unsupported command ${JSON.stringify(command ?? "")}; the stand-in knows start, stop, status`, 2);
}
