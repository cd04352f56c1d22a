/**
 * The member's files are built from data by the YAML library: whatever a string holds, it
 * stays one scalar. Checked here without the join information's schema in front, so the
 * writer holds on its own.
 */
import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import type { JoinInfo } from "../../src/election/membership.ts";
import { memberConfig, memberEnv, memberNodes } from "../../src/join/plan.ts";

const info: JoinInfo = {
  version: 1,
  cslrVersion: "0.1.0",
  project: "lab",
  coordinator: { url: "http://10.0.0.5:8888", address: "10.0.0.5", name: "coord" },
  election: { whitelist: ["ray-cpu", "ray-gpu"], leaseTtl: 30, timeout: 10 },
  ray: {
    cpuImage: "rayproject/ray:2.60.0",
    gpuImage: "rayproject/ray:2.60.0-gpu",
    cpu: { head_port: 6379, dashboard_port: 8265, client_port: 10001 },
    gpu: { head_port: 6380, dashboard_port: 8266, client_port: 10002 },
    hostPorts: { base: 30000, per_node: 100 },
    auth: "token",
  },
  mlflow: { trackingUri: "http://10.0.0.5:5000" },
  redis: {},
};

const payload = "http://127.0.0.1:5000/\n    allowed_hosts: [&m mlflow]\n  *m : {enabled: true, image: evil/root:1, artifacts_path: /}";

describe("member files are data", () => {
  test("an honest answer: Ray nodes only, from the coordinator's images", () => {
    const config = parse(memberConfig(info, { name: "ws2", address: "10.0.0.6" }));
    expect(Object.keys(config.services)).toEqual(["health", "ray", "redis", "mlflow", "marimo"]);
    expect(config.services.ray.cpu.image).toBe("rayproject/ray:2.60.0");
    expect(config.services.mlflow).toEqual({ enabled: false, tracking_uri: "http://10.0.0.5:5000" });
    expect(parse(memberNodes(info))).toEqual({ head_whitelist: ["ray-cpu", "ray-gpu"], health_service: { url: "http://10.0.0.5:8888", timeout: 10 } });
  });

  test("line breaks, anchors and alias keys in a value stay inside that value", () => {
    const hostile = {
      ...info,
      mlflow: { trackingUri: payload },
      ray: { ...info.ray, cpuImage: 'x\nvolumes: ["/:/host"]' },
      election: { ...info.election, whitelist: ["a\n- *m"] },
    };
    const config = parse(memberConfig(hostile, { name: "ws2", address: "10.0.0.6" }));
    expect(config.services.mlflow).toEqual({ enabled: false, tracking_uri: payload });
    expect(config.services.ray.cpu.image).toBe('x\nvolumes: ["/:/host"]');
    expect(parse(memberNodes(hostile)).head_whitelist).toEqual(["a\n- *m"]);
  });
});

describe("GCS fault tolerance on a member", () => {
  test("the coordinator's Redis, namespace and password: the member's heads keep the GCS there", () => {
    const withGcs: JoinInfo = { ...info, redis: { url: "redis://10.0.0.5:6381", gcsNamespace: "lab", gcsPassword: "p".repeat(32) } };
    const config = parse(memberConfig(withGcs, { name: "ws2", address: "10.0.0.6" }));
    expect(config.services.ray.gcs_store).toBe("redis://10.0.0.5:6381");
    expect(config.services.ray.gcs_namespace).toBe("lab");
    expect(memberEnv("tok", undefined, "p".repeat(32))).toContain(`\nRAY_REDIS_PASSWORD=${"p".repeat(32)}\n`);
  });

  test("a coordinator without it (or without handing the password out): Ray's own GCS, said in the file", () => {
    expect(parse(memberConfig(info, { name: "ws2", address: "10.0.0.6" })).services.ray.gcs_store).toBe("memory");
    const noPassword: JoinInfo = { ...info, redis: { url: "redis://10.0.0.5:6381", gcsNamespace: "lab" } };
    expect(parse(memberConfig(noPassword, { name: "ws2", address: "10.0.0.6" })).services.ray.gcs_store).toBe("memory");
    expect(memberEnv("tok", undefined)).not.toContain("RAY_REDIS_PASSWORD");
  });
});
