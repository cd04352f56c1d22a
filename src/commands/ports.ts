/**
 * `cslr ports`: this host's port plan. Every port the stack listens on, which service holds it
 * and what it is for; with several workstations, the firewall lines that open Ray's to the
 * cluster's network.
 */
import { defineCommand } from "citty";
import { commonArgs } from "../args.ts";
import { loadProject, resolveProject } from "../config/load.ts";
import { publishedHostPorts } from "../config/rules.ts";
import { resolveHostAddress } from "../host/address.ts";
import { clusterSource, firewallLines, portRanges, rayPortPlan } from "../join/plan.ts";
import { formatJson, jsonDocument } from "../json.ts";
import { portTableLines } from "../status/port-table.ts";

export default defineCommand({
  meta: { name: "ports", description: "This host's port plan: each port, its service and purpose, and the firewall lines" },
  args: { ...commonArgs, json: { type: "boolean", description: "Print { schemaVersion, host, address, mode, ports, firewall } on stdout" } },
  async run({ args }) {
    const paths = resolveProject(args);
    const model = await loadProject(paths);
    const services = publishedHostPorts(model.config, model.gpu.enabled)
      .filter((u) => !u.service.startsWith("ray-") || model.network.mode === "bridge")
      .map((u) => ({ port: u.port, service: u.service, what: u.key }));
    const ray = model.network.mode === "host" ? rayPortPlan(model) : [];
    const plan = [...services, ...ray].sort((a, b) => a.port - b.port);
    const coordinator = model.config.services.health.enabled ? undefined : new URL(model.election.url).hostname;
    const address = (await resolveHostAddress(model.host.address, coordinator)) ?? "127.0.0.1";
    const firewall = ray.length > 0 ? firewallLines(ray.map((p) => p.port), clusterSource(coordinator && /^\d+\.\d+\.\d+\.\d+$/.test(coordinator) ? coordinator : address)) : undefined;
    if (args.json) {
      process.stdout.write(formatJson(jsonDocument({ host: model.host.name, address, mode: model.network.mode, ports: plan, firewall })));
      return;
    }
    const lines = [`Ports of ${model.host.name} (${address}), ${model.network.mode} networking:`];
    lines.push(...portTableLines(plan));
    if (firewall) {
      lines.push("", `Open Ray's ports (${portRanges(ray.map((p) => p.port)).length} ranges) to the cluster's network. With ufw:`, ...firewall.ufw.map((l) => `  ${l}`), "With firewalld:", ...firewall.firewalld.map((l) => `  ${l}`));
    } else if (model.network.mode === "bridge") {
      lines.push("", "One workstation (bridge networking): only the published ports above face the network. For several workstations set network.mode: host.");
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  },
});
