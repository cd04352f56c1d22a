import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { clusterTest, clusterTestData, networkGateway, renderClusterTest, testHostAddress } from "../../src/render/cluster-test.ts";
import { modelFixture, renderTls } from "../helpers/model.ts";

interface Service {
  image: string;
  hostname?: string;
  entrypoint: string[];
  environment?: Record<string, string | number>;
  ports?: { target: number; published: number }[];
  extra_hosts?: string[];
  networks?: string[];
  network_mode?: string;
  volumes?: { source: string; target: string; read_only: boolean }[];
}
interface Doc {
  name: string;
  services: Record<string, Service>;
  networks: Record<string, { ipam: { config: { subnet: string }[] } }>;
}

const opts = (hostAddress = "10.0.0.5") => ({ hostAddress, cslrBinary: "/opt/bin/cslr-linux", outDir: "/project/_build", tls: renderTls });
const render = (model = modelFixture(), hostAddress = "10.0.0.5") => parse(renderClusterTest(model, opts(hostAddress))) as Doc;

const docker = Bun.which("docker");
const hasCompose = docker !== null && Bun.spawnSync([docker, "compose", "version"]).exitCode === 0;
if (!hasCompose)
  console.log("[skip] `docker compose config` of the cluster test file: docker compose is not installed (scripts/ci/install-docker.sh installs it)");

describe("renderClusterTest", () => {
  test("the client alone on an isolated network on cluster_test.subnet; the worker on the host network", () => {
    const doc = render(modelFixture({ project: { name: "lab" }, cluster_test: { subnet: "172.31.5.0/24" } }));
    expect(doc.name).toBe("lab-test");
    expect(Object.keys(doc.services).sort()).toEqual([clusterTest.client, clusterTest.worker]);
    expect(doc.networks[clusterTest.network]!.ipam.config[0]!.subnet).toBe("172.31.5.0/24");
    expect(doc.services[clusterTest.client]!.networks).toEqual([clusterTest.network]);
    expect(doc.services[clusterTest.worker]!.network_mode).toBe("host");
    expect(doc.services[clusterTest.worker]!.ports).toBeUndefined();
  });

  test("the worker runs the node agent, advertises the host address with its pinned ports, and is not whitelisted", () => {
    const worker = render(modelFixture({ services: { health: { port: 18888 } } }), "192.0.2.7").services[clusterTest.worker]!;
    expect(worker.environment).toMatchObject({
      CSLR_NODE_NAME: clusterTest.worker,
      CSLR_HOST_NAME: "ws1",
      CSLR_NODE_ADDRESS: "192.0.2.7",
      CSLR_NODE_IP_ADDRESS: "192.0.2.7",
      CSLR_HEALTH_URL: "https://127.0.0.1:18888",
      CSLR_HEALTH_PIN: renderTls.pin,
      CSLR_NODE_MANAGER_PORT: 6700,
      CSLR_OBJECT_MANAGER_PORT: 6701,
      CSLR_RUNTIME_ENV_AGENT_PORT: 6702,
      CSLR_DASHBOARD_AGENT_GRPC_PORT: 6703,
      CSLR_DASHBOARD_AGENT_LISTEN_PORT: 6704,
      CSLR_METRICS_EXPORT_PORT: 6705,
      CSLR_MIN_WORKER_PORT: 6710,
      CSLR_MAX_WORKER_PORT: 6719,
    });
    expect(modelFixture().nodes.head_whitelist).not.toContain(clusterTest.worker);
    // The token is a compose secret read from .env: never in the environment, never a value in the file.
    expect(worker.environment!.CSLR_CLUSTER_TOKEN).toBeUndefined();
    expect((worker as { secrets?: unknown }).secrets).toEqual(["cslr_cluster_token"]);
    expect((worker as { user?: unknown }).user).toBe("root");
    expect(worker.entrypoint).toEqual(["bash", "/opt/cslr/ray-ep.sh"]);
    expect(worker.volumes).toEqual([
      { type: "bind", source: "/project/_build/ray-ep.sh", target: "/opt/cslr/ray-ep.sh", read_only: true },
      { type: "bind", source: "/opt/bin/cslr-linux", target: "/opt/cslr/bin/cslr", read_only: true },
    ] as never);
  });

  test("cluster_test.worker fields move the pinned ports; Ray's agents sit right after the object manager", () => {
    const model = modelFixture({
      cluster_test: { worker: { node_manager_port: 7000, object_manager_port: 7001, min_worker_port: 7010, max_worker_port: 7011 } },
    });
    expect(model.clusterTest.worker.ports).toEqual([7000, 7001, 7002, 7003, 7004, 7005, 7006, 7007, 7010, 7011]);
    expect(render(model).services[clusterTest.worker]!.environment).toMatchObject({ CSLR_NODE_MANAGER_PORT: 7000, CSLR_METRICS_EXPORT_PORT: 7005 });
  });

  test("the client reaches the host and this stack's heads through host-gateway; the worker names them at the host address", () => {
    const doc = render(modelFixture({ services: { ray: { gpu: { enabled: true } } } }), "10.0.0.5");
    expect(doc.services[clusterTest.client]!.extra_hosts).toEqual(["host.docker.internal:host-gateway", "ray-cpu:host-gateway", "ray-gpu:host-gateway"]);
    expect(doc.services[clusterTest.worker]!.extra_hosts).toEqual(["ray-cpu:10.0.0.5", "ray-gpu:10.0.0.5"]);
  });

  test("a fixed head_address is passed to the worker", () => {
    const model = modelFixture({}, { head_whitelist: ["ray-cpu"], head_address: "10.1.2.3:6379" });
    expect(render(model).services[clusterTest.worker]!.environment!.HEAD_ADDRESS).toBe("10.1.2.3:6379");
    expect(render().services[clusterTest.worker]!.environment!.HEAD_ADDRESS).toBeUndefined();
  });

  test("both containers use the CPU node's image; `$` in it survives compose interpolation", () => {
    const text = renderClusterTest(modelFixture({ services: { ray: { cpu: { image: "reg.example/ray$x:1" } } } }), opts());
    expect(text).toContain('"reg.example/ray$$x:1"');
  });

  test.skipIf(!hasCompose)("the rendered file is accepted by `docker compose config`", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cslr-ct-"));
    try {
      writeFileSync(join(dir, "cluster-test.compose.yaml"), renderClusterTest(modelFixture(), { ...opts(), outDir: dir, cslrBinary: join(dir, "cslr") }));
      writeFileSync(join(dir, "ray-ep.sh"), "#!/bin/bash\n");
      writeFileSync(join(dir, ".env"), "CSLR_CLUSTER_TOKEN='abc$def'\nRAY_AUTH_TOKEN=raytok\n");
      const result = Bun.spawnSync([docker!, "compose", "-f", "cluster-test.compose.yaml", "--env-file", ".env", "config", "--format", "json"], { cwd: dir });
      expect(result.stderr.toString()).toBe("");
      const config = JSON.parse(result.stdout.toString()) as Doc;
      // The token reaches the worker as a secret from .env's variable, not in its environment.
      expect(config.services[clusterTest.worker]!.environment!.CSLR_CLUSTER_TOKEN).toBeUndefined();
      expect((config as { secrets?: unknown }).secrets).toMatchObject({ cslr_cluster_token: { environment: "CSLR_CLUSTER_TOKEN" } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("test host address", () => {
  test.each([
    ["172.28.0.0/16", "172.28.0.1"],
    ["10.20.30.0/24", "10.20.30.1"],
    ["192.168.1.128/25", "192.168.1.129"],
    ["10.0.0.0/31", undefined],
  ])("gateway of %s is %s", (subnet, gateway) => {
    expect(networkGateway(subnet)).toBe(gateway);
  });

  test("the detected address wins; else ray-network's gateway", () => {
    const model = modelFixture({ network: { subnet: "172.29.0.0/16" } });
    expect(testHostAddress(model, "192.0.2.9")).toBe("192.0.2.9");
    expect(testHostAddress(model, undefined)).toBe("172.29.0.1");
  });

  test("clusterTestData is pure data: same inputs, same view", () => {
    expect(clusterTestData(modelFixture(), opts("1.2.3.4"))).toEqual(clusterTestData(modelFixture(), opts("1.2.3.4")));
  });
});
