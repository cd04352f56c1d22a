/**
 * Pure: Model → `_build/cluster-test.compose.yaml`, the stack `cslr test` runs.
 *
 * Two containers on their own network (cluster_test.subnet) that reach the main cluster only
 * through the host's published ports: `host.docker.internal` and the names of this host's Ray
 * services are mapped to Docker's `host-gateway`, so an address the election hands out
 * (`ray-cpu:6379`) leads to the published port, as it would for another machine. The test
 * worker is not whitelisted and advertises the host's address with pinned, published ports,
 * because real Ray's head must reach a worker back.
 */
import type { Model } from "../config/model.ts";
import { parseIpv4Cidr } from "../config/net.ts";
import { rosterUrl } from "../config/urls.ts";
import { renderTemplateText, templates } from "./engine.ts";
import { needsClusterToken } from "../config/secrets.ts";
import {
  agentMounts,
  clusterTokenSecret,
  paths,
  pinnedPortEnvironment,
  rayAuthEnvironment,
  type ElectionTls,
  type EnvEntry,
  type Mount,
} from "./compose-data.ts";
import { composeScalar } from "./escape.ts";

/** Names inside the test stack; `cslr test` and the e2e tests use the same ones. */
export const clusterTest = {
  worker: "test-ray-worker",
  client: "test-ray-client",
  network: "cluster-test",
  /** How the test containers name the host (Docker's host-gateway). */
  hostAlias: "host.docker.internal",
} as const;

export interface ClusterTestView {
  project: string;
  /** Undefined: Docker picks a free subnet. */
  subnet?: string;
  image: string;
  worker: {
    hostname: string;
    environment: EnvEntry[];
    mounts: Mount[];
    /** `NAME:ADDRESS` entries: this host's head names lead to the host's published ports. */
    extraHosts: string[];
    shmSize: string | number;
    clusterToken: boolean;
  };
  client: {
    hostname: string;
    environment: EnvEntry[];
    /** `NAME:host-gateway`: the client reaches the cluster only through the host. */
    extraHosts: string[];
  };
}

/** The project name of the test stack: separate from the main stack's, so `down` never touches it. */
export function testProjectName(model: Model): string {
  return `${model.project.name}-test`;
}

/** The gateway of ray-network (its first address): a host address every Ray container can reach. */
export function networkGateway(subnet: string): string | undefined {
  const network = parseIpv4Cidr(subnet);
  if (!network || network.prefix > 30) return undefined;
  const n = network.base + 1;
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/**
 * The address the test worker advertises: the detected host address, else ray-network's
 * gateway when its subnet is set (published ports answer on every host address, and the head
 * can always reach that one). A subnet Docker picks is not known before the network exists.
 */
export function testHostAddress(model: Model, detected: string | undefined): string {
  const gateway = model.network.subnet === undefined ? undefined : networkGateway(model.network.subnet);
  return detected ?? gateway ?? "127.0.0.1";
}

/** This host's Ray services that can be head: the names an elected head is announced by. */
export function localHeadNames(model: Model): string[] {
  return model.rayNodes.filter((n) => n.ports).map((n) => n.service);
}

/** The image of the test containers: the CPU node's (real Ray has python and `ray` in it). */
export function testImage(model: Model): string {
  return model.config.services.ray.cpu.image;
}

/**
 * The test worker runs the node agent on the host network (real Ray from 2.50 binds the address
 * it advertises, which only exists there), advertising this host's address with its own pinned
 * ports, as a worker on another workstation would. The client stays on the isolated network.
 */
export function clusterTestData(model: Model, opts: { hostAddress: string; cslrBinary: string; outDir: string; tls?: ElectionTls }): ClusterTestView {
  const w = model.clusterTest.worker;
  const electionUrl = rosterUrl(model);
  const environment: EnvEntry[] = [
    { name: "CSLR_NODE_NAME", value: clusterTest.worker },
    { name: "CSLR_HOST_NAME", value: model.host.name },
    { name: "CSLR_NODE_ADDRESS", value: opts.hostAddress },
    // Ray's --node-ip-address: the address the head dials the worker back at.
    { name: "CSLR_NODE_IP_ADDRESS", value: opts.hostAddress },
    ...pinnedPortEnvironment(w.pinned),
    { name: "CSLR_NUM_CPUS", value: 1 },
    { name: "CSLR_HEALTH_URL", value: electionUrl },
    { name: "CSLR_HEALTH_TIMEOUT", value: model.election.timeout },
    ...(opts.tls && electionUrl.startsWith("https:") ? [{ name: "CSLR_HEALTH_PIN", value: opts.tls.pin }] : []),
  ];
  if (model.election.headAddress) environment.push({ name: "HEAD_ADDRESS", value: model.election.headAddress });
  environment.push(...rayAuthEnvironment(model));
  return {
    project: testProjectName(model),
    subnet: model.clusterTest.subnet,
    image: testImage(model),
    worker: {
      hostname: clusterTest.worker,
      environment,
      mounts: agentMounts(opts.cslrBinary, opts.outDir),
      extraHosts: localHeadNames(model).map((name) => `${name}:${opts.hostAddress}`),
      shmSize: w.shmSize,
      // As in compose.yaml: the cluster token as a compose secret, never in the environment.
      clusterToken: needsClusterToken(model),
    },
    client: {
      hostname: clusterTest.client,
      // The real-Ray probe is a Ray client: it needs Ray's token like any other.
      environment: rayAuthEnvironment(model),
      extraHosts: [clusterTest.hostAlias, ...localHeadNames(model)].map((name) => `${name}:host-gateway`),
    },
  };
}

/** Renders the cluster-test compose file; `templateText` is a project override when given. */
export function renderClusterTest(
  model: Model,
  opts: { hostAddress: string; cslrBinary: string; outDir: string; tls?: ElectionTls },
  templateText: string = templates["cluster-test.compose.yaml"].text,
): string {
  const view = clusterTestData(model, opts);
  return renderTemplateText("cluster-test.compose.yaml", templateText, {
    ...view,
    paths,
    tokenSecret: clusterTokenSecret,
    names: clusterTest,
    esc: composeScalar,
  });
}
