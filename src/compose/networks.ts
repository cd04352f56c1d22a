/**
 * Explicit subnets against the engine's networks. Docker refuses a network whose subnet
 * overlaps another one ("Pool overlaps with other one on this address space"), and compose
 * finds out only while it creates the stack; cslr asks first and names the network in the way.
 * Pure, except `listDockerNetworks`.
 */
import type { PathSegment } from "../config/config-error.ts";
import { configProblemError, type ProjectPaths } from "../config/load.ts";
import type { ComposeTool } from "./argv.ts";
import { cidrsOverlap, parseIpv4Cidr } from "../config/net.ts";
import type { Problem } from "../config/rules.ts";
import { probeProgram } from "./runner.ts";
import type { ComposeDoc } from "./target.ts";

export interface DockerNetwork {
  name: string;
  subnets: string[];
  labels: Record<string, string>;
}

/** A subnet a compose file asks for, with the config key that sets it. */
export interface DeclaredSubnet {
  /** The network's key in the compose file (ray-network, cluster-test). */
  network: string;
  subnet: string;
  path: PathSegment[];
}

/** The compose networks cslr renders, and the config key of each one's subnet. */
const subnetKeys: Record<string, PathSegment[]> = {
  "ray-network": ["network", "subnet"],
  "cluster-test": ["cluster_test", "subnet"],
};

/** `docker network inspect` output → name, IPv4 and IPv6 subnets and labels of each network. */
export function parseNetworkInspect(json: string): DockerNetwork[] {
  const text = json.trim();
  if (text === "") return [];
  const raw = JSON.parse(text) as { Name?: string; IPAM?: { Config?: { Subnet?: string }[] | null }; Labels?: Record<string, string> | null }[];
  return raw.map((n) => ({
    name: n.Name ?? "",
    subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? "").filter((s) => s !== ""),
    labels: n.Labels ?? {},
  }));
}

/** The subnets a compose file sets explicitly (none when Docker is left to pick). */
export function declaredSubnets(doc: ComposeDoc): DeclaredSubnet[] {
  const out: DeclaredSubnet[] = [];
  for (const [network, def] of Object.entries(doc.networks ?? {})) {
    for (const entry of def?.ipam?.config ?? []) {
      if (typeof entry?.subnet === "string") out.push({ network, subnet: entry.subnet, path: subnetKeys[network] ?? ["network", "subnet"] });
    }
  }
  return out;
}

/** Is this the network compose itself created for `project` (re-running `up` reuses it)? */
function isOwnNetwork(network: DockerNetwork, project: string, key: string): boolean {
  return network.labels["com.docker.compose.project"] === project && network.labels["com.docker.compose.network"] === key;
}

/** One problem per declared subnet that overlaps a network of the engine other than the project's own. */
export function subnetConflicts(declared: DeclaredSubnet[], project: string, existing: DockerNetwork[]): Problem[] {
  const out: Problem[] = [];
  for (const want of declared) {
    const wanted = parseIpv4Cidr(want.subnet);
    if (!wanted) continue;
    for (const network of existing) {
      if (isOwnNetwork(network, project, want.network)) continue;
      const overlap = network.subnets.find((s) => {
        const other = parseIpv4Cidr(s);
        return other !== undefined && cidrsOverlap(wanted, other);
      });
      if (overlap === undefined) continue;
      const key = want.path.join(".");
      out.push({
        path: want.path,
        message: `${want.subnet} overlaps Docker network ${network.name} (${overlap}), and Docker refuses it; expected a subnet no other network uses, or leave ${key} out so Docker picks a free one`,
      });
      break;
    }
  }
  return out;
}

/** The container engine's own CLI behind a Compose (`docker-compose` talks to docker). */
export function engineOf(tool: ComposeTool): string {
  return tool.kind === "podman compose" ? "podman" : "docker";
}

/**
 * Before compose creates anything: the compose file's explicit subnets must be free on the
 * engine. Throws a ConfigError (exit 2) positioned at the key in config.yaml.
 */
export async function assertSubnetsFree(
  paths: ProjectPaths,
  doc: ComposeDoc,
  project: string,
  engine: string,
  list: (engine: string) => Promise<DockerNetwork[]> = listDockerNetworks,
): Promise<void> {
  const declared = declaredSubnets(doc);
  if (declared.length === 0) return;
  const problems = subnetConflicts(declared, project, await list(engine));
  if (problems.length > 0) throw await configProblemError(paths, problems);
}

/** Every network of the engine with its subnets: `docker network ls -q`, then one `inspect`. */
export async function listDockerNetworks(engine = "docker"): Promise<DockerNetwork[]> {
  const ids = await probeProgram([engine, "network", "ls", "-q"]);
  if (!ids || ids.code !== 0) throw new Error(`${engine} network ls failed: ${(ids?.stderr ?? `${engine} not found`).trim().split("\n").at(-1)}`);
  const list = ids.stdout
    .split("\n")
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0) return [];
  const inspected = await probeProgram([engine, "network", "inspect", ...list]);
  // A network removed between the two calls makes inspect fail for it; the others still print.
  if (!inspected) return [];
  return parseNetworkInspect(inspected.stdout);
}
