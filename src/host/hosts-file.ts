/**
 * This host's own name, resolvable inside its host-network Ray containers.
 *
 * A container with `network_mode: host` gets a copy of the host's /etc/hosts, and the image's
 * resolver (`hosts: files dns`, no systemd nss-myhostname) finds the machine's hostname only
 * there. When /etc/hosts does not name it (Fedora, RHEL, Arch and many cloud images rely on
 * nss-myhostname or DNS) and the lab has no reachable DNS server, every lookup of the hostname
 * waits out the resolver's timeouts (10 s measured with resolv.conf's server unreachable). Ray
 * 2.60's dashboard agent does one at start (its metrics server's http.server binds "" and asks
 * socket.getfqdn), and Ray's raylet gives the agent 15 s by default to write its ports: the
 * head died with "Timed out waiting for file …dashboard_agent_listen_port" and never became
 * usable (src/node/ray.ts now raises that limit; the 10 s are still lost, and drivers and
 * workers that look the name up lose them too).
 *
 * Docker writes the host's file into such a container only without `extra_hosts`; with them it
 * writes its own, so the entries of the host's file are carried over as extra hosts too.
 */
import { readFileSync } from "node:fs";
import { parseIpv4 } from "./ipv4.ts";

const hostName = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export interface HostsEntry {
  address: string;
  names: string[];
}

/** The IPv4 entries of an /etc/hosts text; comments, IPv6 and malformed lines are left out. */
export function parseHostsFile(text: string): HostsEntry[] {
  const entries: HostsEntry[] = [];
  for (const raw of text.split("\n")) {
    const [address, ...names] = raw.replace(/#.*$/, "").trim().split(/\s+/);
    if (!address || parseIpv4(address) === undefined) continue;
    const valid = names.filter((n) => n.length <= 253 && hostName.test(n));
    if (valid.length > 0) entries.push({ address, names: valid });
  }
  return entries;
}

/**
 * `extra_hosts` for this host's host-network Ray containers: none when the host's file already
 * names `machineHostname` (Docker's copy of it resolves the name), else its entries as
 * `NAME:ADDRESS` and `machineHostname:hostAddress`. A name or address that is not one: none.
 */
export function hostNetworkExtraHosts(hostsText: string, machineHostname: string, hostAddress: string): string[] {
  if (!hostName.test(machineHostname) || parseIpv4(hostAddress) === undefined) return [];
  const entries = parseHostsFile(hostsText);
  const wanted = machineHostname.toLowerCase();
  if (entries.some((e) => e.names.some((n) => n.toLowerCase() === wanted))) return [];
  const carried = entries.flatMap((e) => e.names.filter((n) => n !== "localhost").map((n) => `${n}:${e.address}`));
  return [...carried, `${machineHostname}:${hostAddress}`];
}

/** The host's /etc/hosts, or "" when it cannot be read. */
export function readHostsFile(path = "/etc/hosts"): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
