/**
 * Pure: can `cslr test` mean anything right now? It proves that the running cluster is reachable
 * from elsewhere, so a stack that is not running (or is kept to this machine) is said at once,
 * with what to do, instead of after the checks' whole timeout blaming the firewall.
 */
import type { Model } from "../config/model.ts";
import { isLoopback } from "../config/rules.ts";

/** Why the cluster test cannot pass now, or undefined. `running`: this stack's running services. */
export function preflightProblem(model: Model, running: Set<string>): string | undefined {
  const start = "start it with `cslr up -d --wait`, then run `cslr test` again";
  const project = model.project.name;
  if (running.size === 0) return `the stack ${project} is not running (no running container): ${start}`;
  if (model.config.services.health.enabled && !running.has("health")) {
    return `the stack ${project} is not running its election service (health): ${start}`;
  }
  // On one workstation the head is one of this stack's whitelisted Ray nodes.
  const heads = model.rayNodes.filter((n) => n.ports && n.whitelisted).map((n) => n.service);
  if (model.network.mode === "bridge" && model.election.headAddress === null && heads.length > 0 && !heads.some((s) => running.has(s))) {
    return `the stack ${project} runs no Ray node that can be head (${heads.join(", ")}): ${start}`;
  }
  const bind = model.network.bindAddress;
  if (model.network.mode === "bridge" && isLoopback(bind)) {
    return `network.bind_address is ${bind}: the cluster is published to this machine only, so no other machine (and not the test's isolated network) can reach it; set it to 0.0.0.0 or an address others reach, then \`cslr up -d\``;
  }
  return undefined;
}
