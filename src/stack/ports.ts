/**
 * `cslr ports`: this host's port plan. Every port the stack listens on, which service holds it
 * and what it is for; with several workstations, the firewall lines that open Ray's to the
 * cluster's network.
 */
import { loadProject, type ProjectPaths } from "../config/load.ts";
import type { Model } from "../config/model.ts";
import { publishedHostPorts } from "../config/rules.ts";
import { hostAddressOf } from "../config/host-address.ts";
import { coordinatorHostOf } from "../config/urls.ts";
import { clusterSource, firewallLines, portRanges, rayPortPlan } from "../join/plan.ts";
import { formatJson, jsonDocument } from "../json.ts";
import { portTableLines } from "../status/port-table.ts";

/** Every port this host's stack listens on, sorted: the published ones, and Ray's own with host networking. */
function portPlan(model: Model) {
  const services = publishedHostPorts(model.config, model.gpu.enabled)
    .filter((u) => !u.service.startsWith("ray-") || model.network.mode === "bridge")
    .map((u) => ({ port: u.port, service: u.service, what: u.key }));
  const ray = model.network.mode === "host" ? rayPortPlan(model) : [];
  return { ray, plan: [...services, ...ray].sort((a, b) => a.port - b.port) };
}

export async function showPorts(paths: ProjectPaths, options: { json?: boolean }): Promise<void> {
  const model = await loadProject(paths);
  const { ray, plan } = portPlan(model);
  const coordinator = coordinatorHostOf(model);
  const address = await hostAddressOf(model);
  const firewall =
    ray.length > 0
      ? firewallLines(
          ray.map((p) => p.port),
          clusterSource(coordinator && /^\d+\.\d+\.\d+\.\d+$/.test(coordinator) ? coordinator : address),
        )
      : undefined;
  if (options.json) {
    process.stdout.write(formatJson(jsonDocument({ host: model.host.name, address, mode: model.network.mode, ports: plan, firewall })));
    return;
  }
  const lines = [`Ports of ${model.host.name} (${address}), ${model.network.mode} networking:`];
  lines.push(...portTableLines(plan));
  if (firewall) {
    lines.push(
      "",
      `Open Ray's ports (${portRanges(ray.map((p) => p.port)).length} ranges) to the cluster's network. With ufw:`,
      ...firewall.ufw.map((l) => `  ${l}`),
      "With firewalld:",
      ...firewall.firewalld.map((l) => `  ${l}`),
    );
  } else if (model.network.mode === "bridge") {
    lines.push("", "One workstation (bridge networking): only the published ports above face the network. For several workstations set network.mode: host.");
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}
