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
