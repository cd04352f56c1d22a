/**
 * Which of the host ports a stack publishes are held by something else. One answer for `up`
 * (fail before compose, naming the config key) and `doctor` (report it as a check).
 */
import type { Model } from "../config/model.ts";
import { publishedHostPorts } from "../config/rules.ts";
import { busyPorts } from "../host/ports.ts";
import { psArgs } from "./argv.ts";
import { parsePs } from "./ps.ts";
import { portConfigKeys, publishedPorts, withConfigKeys, type PublishedPort } from "./published.ts";
import type { Compose } from "./runner.ts";
import type { ComposeDoc } from "./target.ts";

/** Services of this project whose containers run: they hold their own ports, which is no conflict. */
export async function runningServices(compose: Compose): Promise<Set<string>> {
  const rows = parsePs(await compose.captureOk(psArgs({ json: true })));
  return new Set(rows.filter((r) => r.state === "running" || r.state === "restarting").map((r) => r.service));
}

/**
 * The ports `services` (default: all) of a compose file publish that something other than
 * the project's own `running` services holds, each with the config key that sets it.
 */
export async function busyPublishedPorts(doc: ComposeDoc, running: Set<string>, model: Model | undefined, services?: string[]): Promise<PublishedPort[]> {
  const wanted = publishedPorts(doc, services).filter((p) => !running.has(p.service));
  const keys = model ? portConfigKeys(model.config, model.gpu.enabled) : new Map<number, string>();
  return busyPorts(withConfigKeys(wanted, keys));
}

/** Before anything is generated: the ports the config would publish, with their keys. */
export async function busyConfiguredPorts(model: Model): Promise<PublishedPort[]> {
  // On the host network (the cluster test's worker; Ray nodes with network.mode host) Ray binds
  // its ports itself, on every address; only published ports follow network.bind_address.
  const rayOnHost = new Set(model.network.mode === "host" ? model.rayNodes.map((n) => n.service) : []);
  const onHostNetwork = (service: string) => service === "test-ray-worker" || rayOnHost.has(service);
  const hostIp = (service: string) => (onHostNetwork(service) || model.network.bindAddress === "0.0.0.0" ? undefined : model.network.bindAddress);
  const ports = publishedHostPorts(model.config, model.gpu.enabled).map((u) => ({ service: u.service, port: u.port, key: u.key, hostIp: hostIp(u.service) }));
  return busyPorts(ports);
}
