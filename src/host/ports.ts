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
