/**
 * Subnets: by default Docker picks them (two projects on one host never collide); an explicit
 * one is checked against the engine's networks before compose creates anything.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { assertSubnetsFree, declaredSubnets, parseNetworkInspect, subnetConflicts, type DockerNetwork } from "../../src/compose/networks.ts";
import { ConfigError } from "../../src/config/config-error.ts";
import { resolveProject } from "../../src/config/load.ts";
import { embeddedTemplateSet, renderBuild } from "../../src/render/render.ts";
import { modelFixture, renderTls } from "../helpers/model.ts";
import type { ConfigInput } from "../../src/config/schema.ts";

function compose(config: ConfigInput = {}): Record<string, any> {
  const files = renderBuild({
    model: modelFixture(config),
    cslrBinary: "/opt/cslr",
    projectDir: "/p",
    outDir: "/p/_build",
    hostAddress: "10.0.0.5",
    version: "0",
    tls: renderTls,
    templates: embeddedTemplateSet(),
  });
  return Object.fromEntries(files.filter((f) => f.name.endsWith(".yaml")).map((f) => [f.name, parse(f.content)]));
}

describe("default subnets", () => {
  test("no subnet configured: Docker picks one for ray-network and for the test network", () => {
    const files = compose();
    expect(files["compose.yaml"].networks).toEqual({ "ray-network": {} });
    expect(files["cluster-test.compose.yaml"].networks).toEqual({ "cluster-test": {} });
  });

  test("an explicit subnet is rendered as it was given", () => {
    const files = compose({ network: { subnet: "10.28.0.0/24" }, cluster_test: { subnet: "10.30.0.0/24" } });
    expect(files["compose.yaml"].networks["ray-network"].ipam.config).toEqual([{ subnet: "10.28.0.0/24" }]);
    expect(files["cluster-test.compose.yaml"].networks["cluster-test"].ipam.config).toEqual([{ subnet: "10.30.0.0/24" }]);
  });
});

describe("network.bind_address", () => {
  const portsOf = (doc: Record<string, any>) =>
    Object.entries(doc.services as Record<string, { ports?: { host_ip?: string }[] }>).flatMap(([service, s]) =>
      (s.ports ?? []).map((p) => [service, p.host_ip]),
    );

  test("0.0.0.0 (the default) leaves host_ip to Docker: every address, IPv6 too", () => {
    const ports = portsOf(compose()["compose.yaml"]);
    expect(ports.length).toBeGreaterThan(4);
    expect(ports.every(([, ip]) => ip === undefined)).toBe(true);
  });

  test("an address binds every published port there", () => {
    const ports = portsOf(compose({ network: { bind_address: "127.0.0.1" } })["compose.yaml"]);
    expect(new Set(ports.map(([service]) => service))).toEqual(new Set(["health", "ray-cpu", "ray-redis", "mlflow", "marimo"]));
    expect(ports.every(([, ip]) => ip === "127.0.0.1")).toBe(true);
  });
});

const inspect = JSON.stringify([
  { Name: "bridge", IPAM: { Config: [{ Subnet: "172.17.0.0/16", Gateway: "172.17.0.1" }] }, Labels: {} },
  {
    Name: "other_default",
    IPAM: { Config: [{ Subnet: "10.28.0.0/16" }, { Subnet: "fd00:28::/64" }] },
    Labels: { "com.docker.compose.project": "other", "com.docker.compose.network": "default" },
  },
  {
    Name: "lab_ray-network",
    IPAM: { Config: [{ Subnet: "10.40.0.0/24" }] },
    Labels: { "com.docker.compose.project": "lab", "com.docker.compose.network": "ray-network" },
  },
  { Name: "host", IPAM: { Config: [] }, Labels: null },
]);

describe("explicit subnets against the engine's networks", () => {
  const networks: DockerNetwork[] = parseNetworkInspect(inspect);
  const declared = (main?: string, test?: string) => {
    const doc = { networks: {} as Record<string, any> };
    if (main) doc.networks["ray-network"] = { ipam: { config: [{ subnet: main }] } };
    else doc.networks["ray-network"] = {};
    if (test) doc.networks["cluster-test"] = { ipam: { config: [{ subnet: test }] } };
    return declaredSubnets(doc);
  };

  test("parseNetworkInspect reads names, subnets (IPv6 too) and labels", () => {
    expect(networks.map((n) => [n.name, n.subnets])).toEqual([
      ["bridge", ["172.17.0.0/16"]],
      ["other_default", ["10.28.0.0/16", "fd00:28::/64"]],
      ["lab_ray-network", ["10.40.0.0/24"]],
      ["host", []],
    ]);
  });

  test("an overlap names the network in the way and the key to change", () => {
    expect(subnetConflicts(declared("10.28.5.0/24"), "lab", networks)).toEqual([
      {
        path: ["network", "subnet"],
        message:
          "10.28.5.0/24 overlaps Docker network other_default (10.28.0.0/16), and Docker refuses it; expected a subnet no other network uses, or leave network.subnet out so Docker picks a free one",
      },
    ]);
    expect(subnetConflicts(declared(undefined, "172.17.3.0/24"), "lab", networks).map((p) => p.path.join("."))).toEqual(["cluster_test.subnet"]);
  });

  test("the project's own network (up run again) is no conflict; another project's is", () => {
    expect(subnetConflicts(declared("10.40.0.0/24"), "lab", networks)).toEqual([]);
    expect(subnetConflicts(declared("10.40.0.0/24"), "lab2", networks)).toHaveLength(1);
  });

  test("no explicit subnet: nothing to check, the engine is not even asked", async () => {
    let asked = false;
    await assertSubnetsFree(resolveProject({}, "/nowhere"), { networks: { "ray-network": {} } }, "lab", "docker", async () => {
      asked = true;
      return networks;
    });
    expect(asked).toBe(false);
  });

  test("assertSubnetsFree: one positioned config line, exit 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cslr-subnet-"));
    try {
      writeFileSync(join(dir, "config.yaml"), "project:\n  name: lab2\nnetwork:\n  subnet: 10.40.0.0/24\n");
      const doc = { networks: { "ray-network": { ipam: { config: [{ subnet: "10.40.0.0/24" }] } } } };
      const error = await assertSubnetsFree(resolveProject({ config: join(dir, "config.yaml") }), doc, "lab2", "docker", async () => networks).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).exitCode).toBe(2);
      expect((error as Error).message).toEndWith(
        "config.yaml:4:11  network.subnet  10.40.0.0/24 overlaps Docker network lab_ray-network (10.40.0.0/24), and Docker refuses it; expected a subnet no other network uses, or leave network.subnet out so Docker picks a free one",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
