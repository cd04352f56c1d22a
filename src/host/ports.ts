/**
 * Is a host port free? Tried the honest way: bind it where Docker's port publishing will, and
 * let it go again.
 */
import { createServer } from "node:net";

/** One bind to try: an address, and whether an IPv6 socket leaves IPv4 alone. */
interface BindAttempt {
  host: string;
  ipv6Only: boolean;
}

/**
 * Where Docker binds a port published on `hostIp`. Its default (0.0.0.0, no host_ip) is every
 * address, IPv4 and IPv6 (docker-proxy listens on 0.0.0.0 and [::]): a listener on [::1] alone
 * makes it fail with "listen tcp6 [::]:PORT: bind: address already in use", so both are tried.
 */
export function bindAttempts(hostIp = "0.0.0.0"): BindAttempt[] {
  if (hostIp === "0.0.0.0" || hostIp === "::")
    return [
      { host: "0.0.0.0", ipv6Only: false },
      { host: "::", ipv6Only: true },
    ];
  return [{ host: hostIp, ipv6Only: false }];
}

function bindFree(port: number, attempt: BindAttempt): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      // Only "in use" is a conflict; EACCES (a low port without root) is Docker's to judge, and
      // EAFNOSUPPORT/EADDRNOTAVAIL (no IPv6 here) means there is nothing to collide with.
      resolvePromise(error.code !== "EADDRINUSE");
    });
    server.listen({ port, host: attempt.host, ipv6Only: attempt.ipv6Only, exclusive: true }, () => {
      server.close(() => resolvePromise(true));
    });
  });
}

/** Free when every bind Docker would make for `hostIp` (default: every address, IPv4 and IPv6) succeeds. */
export async function isPortFree(port: number, hostIp?: string): Promise<boolean> {
  for (const attempt of bindAttempts(hostIp)) if (!(await bindFree(port, attempt))) return false;
  return true;
}

/** The subset of `ports` that something on this host already holds (where each would be bound). */
export async function busyPorts<T extends { port: number; hostIp?: string }>(
  ports: T[],
  isFree: (port: number, hostIp?: string) => Promise<boolean> = isPortFree,
): Promise<T[]> {
  const checks = await Promise.all(ports.map(async (p) => ({ p, free: await isFree(p.port, p.hostIp) })));
  return checks.filter((c) => !c.free).map((c) => c.p);
}

export type Dial = { reachable: true } | { reachable: false; error: string };

/**
 * Opens a TCP connection to host:port and closes it: reachable, refused (nothing listens, but
 * the host answered), or no answer within the time (a firewall that drops, or no route).
 */
export function dial(host: string, port: number, timeoutMs = 1000): Promise<Dial> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: Dial) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const timer = setTimeout(() => settle({ reachable: false, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
    Bun.connect({
      hostname: host,
      port,
      socket: {
        open(socket) {
          socket.end();
          settle({ reachable: true });
        },
        data() {},
        error() {},
        connectError(_socket, error) {
          settle({ reachable: false, error: (error as NodeJS.ErrnoException).code === "ECONNREFUSED" ? "connection refused" : error.message });
        },
      },
    }).catch((error: Error) => settle({ reachable: false, error: /ECONNREFUSED|refused/i.test(error.message) ? "connection refused" : error.message }));
  });
}
