/**
 * Shared helpers of the stand-in `ray` (see ray.ts for what it is). Self-contained: nothing
 * here may import from the repo's src/, because the stand-in is compiled on its own.
 */
import { createHash } from "node:crypto";
import { lookup } from "node:dns/promises";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { connect, type Socket } from "node:net";

export const prefix = "[ray stand-in]";

/** The Ray release whose behaviour the stand-in imitates (what `ray --version` and /api/version report). */
export const imitatedRay = "2.60.0";
export const standInVersion = `${imitatedRay}+standin`;

export function say(message: string): void {
  process.stdout.write(`${prefix} ${message}\n`);
}

export function warn(message: string): void {
  process.stderr.write(`${prefix} ${message}\n`);
}

/** Runs before exit: pid files, listeners, job processes. */
const exitHooks: (() => void)[] = [];
export function onExit(hook: () => void): void {
  exitHooks.push(hook);
}

export function exit(code: number): never {
  for (const hook of exitHooks.splice(0)) {
    try {
      hook();
    } catch {}
  }
  process.exit(code);
}

export function fail(message: string, code = 1): never {
  process.stderr.write(`${prefix} error: ${message}\n`);
  exit(code);
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export function randomHex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");
}

/** An integer from the environment (Ray's `RAY_<name>` config overrides are plain numbers). */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) fail(`${name}=${raw}: expected a number`, 2);
  return value;
}

// ---------------------------------------------------------------- auth

export interface Auth {
  /** RAY_AUTH_MODE=token (or, for a head, a token lying around with RAY_AUTH_MODE unset). */
  enabled: boolean;
  token?: string;
  /** Where the token came from, for the log (never the token itself). */
  source?: string;
}

/** The token Ray would load: $RAY_AUTH_TOKEN, else the file $RAY_AUTH_TOKEN_PATH, else ~/.ray/auth_token. */
export function loadToken(): { token: string; source: string } | undefined {
  const fromEnv = process.env.RAY_AUTH_TOKEN?.trim();
  if (fromEnv) return { token: fromEnv, source: "RAY_AUTH_TOKEN" };
  const paths = [
    process.env.RAY_AUTH_TOKEN_PATH ? ["RAY_AUTH_TOKEN_PATH", process.env.RAY_AUTH_TOKEN_PATH] : undefined,
    ["~/.ray/auth_token", join(homedir(), ".ray", "auth_token")],
  ];
  for (const entry of paths) {
    if (!entry) continue;
    const [label, path] = entry as [string, string];
    if (existsSync(path)) {
      const token = readFileSync(path, "utf8").trim();
      if (token) return { token, source: `${label} (${path})` };
    }
  }
  return undefined;
}

/**
 * Ray 2.60: token auth is on with RAY_AUTH_MODE=token; `ray start --head` also turns it on when
 * RAY_AUTH_MODE is unset and a token is available. With token mode and no token, `ray start`
 * refuses to start.
 */
export function resolveAuth(isHead: boolean): Auth {
  const mode = process.env.RAY_AUTH_MODE?.trim().toLowerCase();
  const found = loadToken();
  const enabled = mode === "token" || (mode === undefined && isHead && found !== undefined);
  if (!enabled) return { enabled: false };
  if (!found) {
    fail(
      "token authentication is on (RAY_AUTH_MODE=token) but no token was found: set RAY_AUTH_TOKEN, " +
        "or put it in the file named by RAY_AUTH_TOKEN_PATH or in ~/.ray/auth_token (real Ray refuses to start the same way)",
    );
  }
  return { enabled: true, token: found.token, source: found.source };
}

// ---------------------------------------------------------------- addresses

/** Resolves a host name to an IPv4 address (IP literals pass through). */
export async function resolveHost(host: string): Promise<string> {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(":")) return host;
  try {
    return (await lookup(host, { family: 4 })).address;
  } catch {
    return host;
  }
}

/**
 * The source address this host would use to reach `target` (a connected UDP socket sends
 * nothing): Ray finds its node IP the same way, towards the head for a worker and towards a
 * public address for a head. 127.0.0.1 when there is no route.
 */
export async function sourceAddressTowards(target: string, port = 53): Promise<string> {
  try {
    const ip = await resolveHost(target);
    const socket = await Bun.udpSocket({ connect: { hostname: ip, port } });
    try {
      const address = (socket as unknown as { address?: { address?: string } }).address?.address;
      if (address && address !== "0.0.0.0" && address !== "::") return address;
    } finally {
      socket.close();
    }
  } catch {}
  return "127.0.0.1";
}

export function splitHostPort(address: string, what = "--address"): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!match) fail(`${what} ${address}: expected host:port`, 2);
  return { host: match[1]!, port: Number(match[2]) };
}

// ---------------------------------------------------------------- line-oriented TCP

export interface LineConnection {
  socket: Socket;
  send(line: string): void;
  /** The next line, or undefined when the connection closed or `timeoutMs` passed. */
  next(timeoutMs: number): Promise<string | undefined>;
  close(): void;
  closed: Promise<void>;
}

/**
 * Connects with a deadline (node:net, so a connect that hangs can be abandoned) and reads lines.
 * Lines that arrive while nobody waits in `next` go to `onLine` when given, else are queued.
 */
export function connectLines(host: string, port: number, timeoutMs: number, onLine?: (line: string) => void): Promise<LineConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buffer = "";
    const queue: string[] = [];
    const waiters: ((line: string | undefined) => void)[] = [];
    let isClosed = false;
    let markClosed!: () => void;
    const closed = new Promise<void>((r) => (markClosed = r));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setNoDelay(true);
    socket.on("connect", () => {
      clearTimeout(timer);
      resolve(conn);
    });
    socket.on("data", (chunk) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, "");
        buffer = buffer.slice(nl + 1);
        const waiter = waiters.shift();
        if (waiter) waiter(line);
        else if (onLine) onLine(line);
        else queue.push(line);
      }
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      isClosed = true;
      for (const waiter of waiters.splice(0)) waiter(undefined);
      markClosed();
      reject(new Error(`connection to ${host}:${port} closed`));
    });
    const conn: LineConnection = {
      socket,
      send(line) {
        if (!isClosed) socket.write(`${line}\n`);
      },
      next(ms) {
        const queued = queue.shift();
        if (queued !== undefined) return Promise.resolve(queued);
        if (isClosed) return Promise.resolve(undefined);
        return new Promise((res) => {
          const t = setTimeout(() => {
            const i = waiters.indexOf(done);
            if (i >= 0) waiters.splice(i, 1);
            res(undefined);
          }, ms);
          const done = (line: string | undefined) => {
            clearTimeout(t);
            res(line);
          };
          waiters.push(done);
        });
      },
      close() {
        socket.destroy();
      },
      closed,
    };
  });
}

/** A short reason for a failed connection, like `ECONNREFUSED` or `ENETUNREACH`. */
export function reason(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return e.code ? `${e.code} (${e.message})` : String(e.message ?? error);
}
