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
import { renderTemplateText, templates } from "./engine.ts";
import { needsClusterToken } from "../config/secrets.ts";
import { secretReference } from "./secrets.ts";

/** Names inside the test stack; `cslr test` and the e2e tests use the same ones. */
export const clusterTest = {
  worker: "test-ray-worker",
  client: "test-ray-client",
  network: "cluster-test",
  /** How the test containers name the host (Docker's host-gateway). */
  hostAlias: "host.docker.internal",
  /** Where the generated entrypoint is mounted; the same path as in compose.yaml. */
  rayEntrypoint: "/opt/cslr/ray-ep.sh",
} as const;

/** `${CSLR_CLUSTER_TOKEN:?...}`: as in compose.yaml, the secret comes from .env at compose time. */
export const clusterTokenReference = secretReference("CSLR_CLUSTER_TOKEN");

export interface EnvVar {
  name: string;
  value: string | number;
}

export interface ClusterTestView {
  project: string;
  subnet: string;
  image: string;
  /** `NAME:host-gateway` entries. */
  extraHosts: string[];
  worker: {
    hostname: string;
    environment: EnvVar[];
    /** Published one to one (host = container). */
    ports: number[];
    shmSize: string | number;
  };
  client: { hostname: string };
  /** The cluster token is passed only when the main stack uses one. */
  withClusterToken: boolean;
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
 * gateway (published ports answer on every host address, and the head can always reach that one).
 */
export function testHostAddress(model: Model, detected: string | undefined): string {
  return detected ?? networkGateway(model.network.subnet) ?? "127.0.0.1";
}

/** This host's Ray services that can be head: the names an elected head is announced by. */
export function localHeadNames(model: Model): string[] {
  return model.rayNodes.filter((n) => n.name && n.ports).map((n) => n.name!);
}

/** The image of the test containers: the CPU node's (real Ray has python and `ray` in it). */
export function testImage(model: Model): string {
  return model.config.services.ray.cpu.image;
}

export function clusterTestData(model: Model, opts: { hostAddress: string }): ClusterTestView {
  const w = model.clusterTest.worker;
  const healthPort = model.config.services.health.port;
  const environment: EnvVar[] = [
    { name: "CSLR_NODE_NAME", value: clusterTest.worker },
    { name: "CSLR_NODE_ADDRESS", value: opts.hostAddress },
    // Ray's --node-ip-address: the address the head dials the worker back at (through the host).
    { name: "CSLR_NODE_IP_ADDRESS", value: opts.hostAddress },
    { name: "CSLR_NODE_MANAGER_PORT", value: w.nodeManagerPort },
    { name: "CSLR_OBJECT_MANAGER_PORT", value: w.objectManagerPort },
    { name: "CSLR_MIN_WORKER_PORT", value: w.minWorkerPort },
    { name: "CSLR_MAX_WORKER_PORT", value: w.maxWorkerPort },
    { name: "CSLR_NUM_CPUS", value: 1 },
    { name: "CSLR_HEALTH_URL", value: `http://${clusterTest.hostAlias}:${healthPort}` },
  ];
  if (model.election.headAddress) environment.push({ name: "HEAD_ADDRESS", value: model.election.headAddress });
  return {
    project: testProjectName(model),
    subnet: model.clusterTest.subnet,
    image: testImage(model),
    extraHosts: [clusterTest.hostAlias, ...localHeadNames(model)].map((name) => `${name}:host-gateway`),
    worker: { hostname: clusterTest.worker, environment, ports: w.ports, shmSize: w.shmSize },
    client: { hostname: clusterTest.client },
    withClusterToken: needsClusterToken(model),
  };
}

/** Renders the cluster-test compose file; `templateText` is a project override when given. */
export function renderClusterTest(
  model: Model,
  opts: { hostAddress: string },
  templateText: string = templates["cluster-test.compose.yaml"].text,
): string {
  const view = clusterTestData(model, opts);
  return renderTemplateText("cluster-test.compose.yaml", templateText, {
    ...view,
    paths: { rayEntrypoint: clusterTest.rayEntrypoint },
    names: clusterTest,
    clusterToken: clusterTokenReference,
  });
}
