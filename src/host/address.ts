/**
 * The address other machines reach this host by. Never unspecified (0.0.0.0), loopback or
 * link-local, and never a Docker bridge: the source address of the route to the coordinator
 * (or of the default route), else the interface on the coordinator's subnet, else the only
 * LAN interface. A lab LAN without a gateway has no default route: there the kernel (and Bun's
 * UDP connect) answers 0.0.0.0, which must never be advertised.
 */
import { networkInterfaces } from "node:os";
import { ipv4InCidr, isUnadvertisable, parseIpv4 } from "./ipv4.ts";
import { log } from "../log.ts";

const containerInterface = /^(docker|br-|veth|virbr|cni|flannel|cali|podman|lxc)/;
/** A documentation address (TEST-NET-1): a route to it is the default route. */
const defaultRouteProbe = "192.0.2.1";

export interface InterfaceAddress {
  iface: string;
  address: string;
  internal: boolean;
  family: string;
  /** a.b.c.d/len; absent in older callers' data. */
  cidr?: string | null;
}

/** The outcome of choosing this host's address: the address and why, or why there is none and what to do. */
export type AddressChoice = { address: string; why: string; fallback: boolean } | { problem: string };

/** Interfaces a LAN peer can reach this host on: IPv4, not internal, not a container bridge, not link-local. */
function lanCandidates(addresses: InterfaceAddress[]): InterfaceAddress[] {
  return addresses.filter((a) => a.family === "IPv4" && !a.internal && !containerInterface.test(a.iface) && !isUnadvertisable(a.address));
}

/** Pure choice among interface addresses, for tests: the first LAN candidate. */
export function pickHostAddress(addresses: InterfaceAddress[]): string | undefined {
  return lanCandidates(addresses)[0]?.address;
}

/**
 * Pure: this host's address from the route's source address (undefined: no route) and the
 * interfaces. `coordinator` is the coordinator's host when this is a member (an IPv4 address
 * lets the interface on its subnet win), undefined on the coordinator itself.
 */
export function chooseHostAddress(
  routeSource: string | undefined,
  addresses: InterfaceAddress[],
  coordinator: string | undefined,
  fix = "set host.address in config.yaml to the address the other workstations reach this one by",
  defaultRouteSource?: string,
): AddressChoice {
  const target = coordinator ?? `${defaultRouteProbe} (the default route)`;
  if (routeSource && !isUnadvertisable(routeSource)) return { address: routeSource, why: `the source address of the route to ${target}`, fallback: false };
  const noRoute = coordinator ? `no route to ${coordinator}` : "no default route";
  // A coordinator named by a name this host cannot resolve (or route): the default route still says which LAN this is.
  if (coordinator && defaultRouteSource && !isUnadvertisable(defaultRouteSource)) {
    return { address: defaultRouteSource, why: `${noRoute}; the source address of the default route`, fallback: true };
  }
  const candidates = lanCandidates(addresses);
  const list = candidates.map((c) => `${c.iface} ${c.address}`).join(", ");
  if (coordinator && parseIpv4(coordinator) !== undefined) {
    const same = candidates.find((c) => !!c.cidr && ipv4InCidr(coordinator, c.cidr));
    if (same) return { address: same.address, why: `${noRoute}; ${same.iface} (${same.cidr}) is on the coordinator's subnet`, fallback: true };
  }
  if (candidates.length === 1)
    return { address: candidates[0]!.address, why: `${noRoute}; ${candidates[0]!.iface} is the only non-loopback interface`, fallback: true };
  if (candidates.length === 0) return { problem: `${noRoute} and no non-loopback IPv4 interface: connect this host to the LAN, or ${fix}` };
  return { problem: `${noRoute} and ${candidates.length} interfaces (${list}) could be the LAN: ${fix}` };
}

export function interfaceAddresses(): InterfaceAddress[] {
  const list: InterfaceAddress[] = [];
  for (const [iface, infos] of Object.entries(networkInterfaces())) {
    for (const info of infos ?? []) {
      list.push({ iface, address: info.address, internal: info.internal, family: String(info.family), cidr: info.cidr });
    }
  }
  return list;
}

export function detectHostAddress(): string | undefined {
  return pickHostAddress(interfaceAddresses());
}

/**
 * The source address of this machine's route to `host`: the address the kernel would send
 * from, so a VPN that holds the default route does not win over the LAN that reaches the
 * coordinator. No packet is sent (a UDP socket is only connected). Undefined when there is no
 * route or the name does not resolve; 0.0.0.0 (what Bun answers without a route) is returned
 * as is: callers check with isUnadvertisable().
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

const isLoopbackName = (h: string) => h === "localhost" || h.startsWith("127.") || h === "::1";

/**
 * This workstation's address as others reach it, and why: `host.address` when set; else see
 * chooseHostAddress() (the route to the coordinator on a member, the default route on the
 * coordinator itself).
 */
export async function chooseHostAddressNow(configured: string, coordinatorHost: string | undefined, fix?: string): Promise<AddressChoice> {
  if (configured !== "auto") return { address: configured, why: "host.address in config.yaml", fallback: false };
  const coordinator = coordinatorHost && !isLoopbackName(coordinatorHost) ? coordinatorHost : undefined;
  const viaRoute = await routeSourceAddress(coordinator ?? defaultRouteProbe);
  const routed = viaRoute !== undefined && !isUnadvertisable(viaRoute);
  const viaDefault = coordinator && !routed ? await routeSourceAddress(defaultRouteProbe) : undefined;
  return chooseHostAddress(viaRoute, interfaceAddresses(), coordinator, fix, viaDefault);
}

const announced = new Set<string>();

/**
 * chooseHostAddressNow() for callers that want only the address: undefined when there is no
 * good answer. A choice made without a route, or the lack of one, is said once per process on
 * stderr (so a lab without a gateway sees which interface was taken and why).
 */
export async function resolveHostAddress(configured: string, coordinatorHost: string | undefined): Promise<string | undefined> {
  const choice = await chooseHostAddressNow(configured, coordinatorHost);
  const line =
    "problem" in choice ? `host.address auto: ${choice.problem}` : choice.fallback ? `host.address auto: ${choice.address} (${choice.why})` : undefined;
  if (line && !announced.has(line)) {
    announced.add(line);
    if ("problem" in choice) log.warn(line);
    else log.info(line);
  }
  return "problem" in choice ? undefined : choice.address;
}
