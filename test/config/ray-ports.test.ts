/**
 * Ray's own port rules: real Ray 2.60 refuses to start a node one of whose ports lies in its
 * worker range, and its agents take fixed ports when not pinned. A config naming such a port
 * is refused at load with the fix; the worker range is pinned in every layout, so the default
 * ray-gpu client port (10002, inside Ray's default range 10002–19999) is fine.
 */
import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../src/config/config-error.ts";
import { modelFromTexts } from "../../src/config/load.ts";
import { bridgeWorkerPorts } from "../../src/config/ray-ports.ts";
import { rayStartArgv } from "../../src/node/ray.ts";
import { parseSettings } from "../../src/node/settings.ts";
import { composeView } from "../../src/render/compose-data.ts";
import { renderTls } from "../helpers/model.ts";

const nodes = { file: "nodes.yaml", text: "head_whitelist: [ray-cpu, ray-gpu]\n" };

async function load(config: string, gpu = true) {
  return modelFromTexts({ file: "config.yaml", text: config }, nodes, () => gpu, "ws1", 64);
}

async function problems(config: string, gpu = true): Promise<string[]> {
  try {
    await load(config, gpu);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split("\n");
    throw error;
  }
  return [];
}

const avoidBridge = "20000–22999, 23000–23999, 24000, 52365, 44227, 44217";

describe("configured ports against the ports Ray takes itself", () => {
  const rows: [string, string, string[]][] = [
    ["the default stack", "project:\n  name: cslr\n", []],
    [
      "a head port in the pinned worker range (bridge)",
      "services:\n  ray:\n    cpu:\n      head_port: 21379\n",
      [
        `config.yaml:4:18  services.ray.cpu.head_port  port 21379 is one Ray takes itself (20000–22999: its worker processes, pinned by cslr in bridge networking), so Ray would refuse to start or fail later; expected a port outside ${avoidBridge}`,
      ],
    ],
    [
      "ray-gpu's client port on Ray Client's per-connection servers",
      "services:\n  ray:\n    gpu:\n      client_port: 23001\n",
      [
        `config.yaml:4:20  services.ray.gpu.client_port  port 23001 is one Ray takes itself (23000–23999: Ray Client's per-connection servers), so Ray would refuse to start or fail later; expected a port outside ${avoidBridge}`,
      ],
    ],
    [
      "a dashboard on the dashboard agent's default port",
      "services:\n  ray:\n    cpu:\n      dashboard_port: 52365\n",
      [
        `config.yaml:4:23  services.ray.cpu.dashboard_port  port 52365 is one Ray takes itself (52365: its dashboard agent's default listen port), so Ray would refuse to start or fail later; expected a port outside ${avoidBridge}`,
      ],
    ],
    ["16379 (in Ray's default range, which cslr never leaves in place)", "services:\n  ray:\n    cpu:\n      head_port: 16379\n", []],
    [
      "host networking: MLflow on Ray Client's range of the host",
      "network:\n  mode: host\n  subnet: 10.213.250.0/24\nhost:\n  address: 10.0.0.5\nservices:\n  mlflow:\n    port: 23500\n",
      [
        "config.yaml:8:11  services.mlflow.port  port 23500 is one Ray takes itself (23000–23999: Ray Client's per-connection servers), so Ray would refuse to start or fail later; expected a port outside 23000–23999",
      ],
    ],
  ];
  for (const [name, config, expected] of rows) {
    test(name, async () => {
      expect(await problems(config)).toEqual(expected);
    });
  }
});

describe("the worker range is pinned in every layout", () => {
  test("bridge: each Ray node's agent is told the pinned range and passes it to ray start", async () => {
    const model = await load("project:\n  name: cslr\n");
    const view = composeView({ model, cslrBinary: "/bin/cslr", projectDir: "/p", outDir: "/p/_build", hostAddress: "10.0.0.5", version: "0", tls: renderTls });
    for (const service of view.rayServices) {
      const env = Object.fromEntries(service.environment.map((e) => [e.name, e.value]));
      expect([env.CSLR_MIN_WORKER_PORT, env.CSLR_MAX_WORKER_PORT]).toEqual([bridgeWorkerPorts.min, bridgeWorkerPorts.max]);
      const settings = parseSettings(
        { ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === undefined ? undefined : String(v)])), CSLR_HEALTH_URL: "http://health:8888" },
        service.service,
      );
      const argv = rayStartArgv(settings, { kind: "head" }, undefined);
      expect(argv).toContain(`--min-worker-port=${bridgeWorkerPorts.min}`);
      expect(argv).toContain(`--max-worker-port=${bridgeWorkerPorts.max}`);
    }
    // ray-gpu's default client port lies outside the pinned range: it can be head.
    const gpu = view.rayServices.find((s) => s.service === "ray-gpu")!;
    const client = Number(gpu.environment.find((e) => e.name === "CSLR_CLIENT_PORT")!.value);
    expect(client).toBe(10002);
    expect(client < bridgeWorkerPorts.min || client > bridgeWorkerPorts.max).toBe(true);
  });
});
