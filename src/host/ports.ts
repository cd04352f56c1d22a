/**
 * Is a host port free? Tried the honest way: bind it on all interfaces (as Docker's port
 * publishing will) and let it go again.
 */
import { createServer } from "node:net";

export function isPortFree(port: number, host = "0.0.0.0"): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      // Only "in use" is a conflict; EACCES (a low port without root) is Docker's to judge.
      resolvePromise(error.code !== "EADDRINUSE");
    });
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolvePromise(true));
    });
  });
}

/** The subset of `ports` that something on this host already holds. */
export async function busyPorts<T extends { port: number }>(
  ports: T[],
  isFree: (port: number) => Promise<boolean> = isPortFree,
): Promise<T[]> {
  const checks = await Promise.all(ports.map(async (p) => ({ p, free: await isFree(p.port) })));
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
