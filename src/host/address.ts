/**
 * The address other machines reach this host by. Not 127.0.0.1 and not a Docker bridge:
 * the first non-internal IPv4 address of an interface that is not a container bridge.
 */
import { networkInterfaces } from "node:os";

const containerInterface = /^(docker|br-|veth|virbr|cni|flannel|cali|podman|lxc)/;

export interface InterfaceAddress {
  iface: string;
  address: string;
  internal: boolean;
  family: string;
}

/** Pure choice among interface addresses, for tests. */
export function pickHostAddress(addresses: InterfaceAddress[]): string | undefined {
  const candidates = addresses.filter(
    (a) => a.family === "IPv4" && !a.internal && !containerInterface.test(a.iface),
  );
  return candidates[0]?.address;
}

export function detectHostAddress(): string | undefined {
  const list: InterfaceAddress[] = [];
  for (const [iface, infos] of Object.entries(networkInterfaces())) {
    for (const info of infos ?? []) {
      list.push({ iface, address: info.address, internal: info.internal, family: String(info.family) });
    }
  }
  return pickHostAddress(list);
}

/**
 * The source address of this machine's route to `host`: the address the kernel would send
 * from, so a VPN that holds the default route does not win over the LAN that reaches the
 * coordinator. No packet is sent (a UDP socket is only connected). Undefined when there is no
 * route or the name does not resolve.
 */
export async function routeSourceAddress(host: string, port = 9): Promise<string | undefined> {
  const { createSocket } = await import("node:dgram");
  return new Promise((resolve) => {
    const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
    const done = (address: string | undefined) => {
      socket.removeAllListeners();
      try {
        socket.close();
      } catch {}
      resolve(address);
    };
    socket.once("error", () => done(undefined));
    try {
      socket.connect(port, host, () => {
        try {
          done(socket.address().address);
        } catch {
          done(undefined);
        }
      });
    } catch {
      done(undefined);
    }
  });
}

/**
 * This workstation's address as others reach it: `host.address` when set; else the source
 * address of the route to the coordinator (a member host), or of the default route (the
 * coordinator itself); else the first address of a non-container interface.
 */
export async function resolveHostAddress(configured: string, coordinatorHost: string | undefined): Promise<string | undefined> {
  if (configured !== "auto") return configured;
  const isLoopback = (h: string) => h === "localhost" || h.startsWith("127.") || h === "::1";
  const target = coordinatorHost && !isLoopback(coordinatorHost) ? coordinatorHost : "192.0.2.1";
  const viaRoute = await routeSourceAddress(target);
  if (viaRoute && !isLoopback(viaRoute)) return viaRoute;
  return detectHostAddress();
}
