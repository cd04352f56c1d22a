/**
 * The node agent's forwarder to the head's GCS (GCS fault tolerance): a TCP relay on this
 * node's own address that the raylet and every Ray process here use as their GCS address.
 * When the election names a new head, the agent points the relay at it and closes the
 * connections to the old one; Ray's GCS clients reconnect through the relay to the new head,
 * which has reloaded the cluster's state from Redis, so the raylet keeps running (no restart,
 * same node id, its tasks and actors alive).
 *
 * It listens on the node's address, not on loopback: Ray rewrites a loopback GCS address to
 * the node's own IP. The target is data from the election service, parsed as host:port
 * before it gets here; it is only ever dialled, never interpreted.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface GcsTarget {
  host: string;
  port: number;
}

export class GcsProxy {
  private target: GcsTarget | undefined;
  private readonly open = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  /** Listens on host:port; resolves once listening, rejects when the port is taken. */
  static listen(host: string, port: number): Promise<GcsProxy> {
    return new Promise((resolve, reject) => {
      let proxy: GcsProxy;
      const server = createServer((client) => proxy.relay(client));
      proxy = new GcsProxy(server);
      server.once("error", reject);
      server.listen({ host, port }, () => {
        server.off("error", reject);
        resolve(proxy);
      });
    });
  }

  /** Where new connections go from now on; open ones to another target are closed (their clients reconnect). */
  point(target: GcsTarget | undefined): void {
    const same = target && this.target && target.host === this.target.host && target.port === this.target.port;
    this.target = target;
    if (!same) this.closeAll();
  }

  get pointsAt(): GcsTarget | undefined {
    return this.target;
  }

  close(): void {
    this.closeAll();
    this.server.close();
  }

  private closeAll(): void {
    for (const socket of this.open) socket.destroy();
    this.open.clear();
  }

  /** One client: piped both ways to the target (with backpressure); either side's end ends both. */
  private relay(client: Socket): void {
    const target = this.target;
    if (!target) {
      // No head now: refuse, and Ray's client retries until the agent names one.
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: target.host, port: target.port });
    for (const socket of [client, upstream]) {
      this.open.add(socket);
      socket.setNoDelay(true);
      socket.on("error", () => undefined);
      socket.on("close", () => {
        this.open.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
