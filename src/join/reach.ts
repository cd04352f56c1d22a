/**
 * The reach-back check from the joining side: this host listens on every port the plan says
 * other workstations will dial (Ray is not running yet), announces itself to the coordinator
 * and asks it to dial them. A refused or silent port is one the coordinator cannot reach.
 */
import type { TCPSocketListener } from "bun";
import { probeHost, registerHost, type Fetch } from "../election/client.ts";
import type { PlannedPort } from "./plan.ts";

export interface ReachResult {
  /** Ports something on this host already holds (so Ray could not bind them). */
  busy: PlannedPort[];
  /** Ports the coordinator could not reach, with why. */
  closed: (PlannedPort & { error: string })[];
  reachable: number;
}

export type ReachOutcome = { ok: true; result: ReachResult } | { ok: false; reason: string; status: number };

/** Listens on each planned port at `address` for the duration of the check. */
function listenAll(address: string, plan: PlannedPort[]): { listeners: TCPSocketListener<undefined>[]; busy: PlannedPort[] } {
  const listeners: TCPSocketListener<undefined>[] = [];
  const busy: PlannedPort[] = [];
  for (const planned of plan) {
    try {
      listeners.push(Bun.listen({ hostname: address, port: planned.port, socket: { open: (s) => void s.end(), data() {} } }));
    } catch {
      busy.push(planned);
    }
  }
  return { listeners, busy };
}

export async function checkReachBack(
  coordinator: string,
  token: string,
  host: { name: string; address: string },
  plan: PlannedPort[],
  fetch?: Fetch,
): Promise<ReachOutcome> {
  const { listeners, busy } = listenAll(host.address, plan);
  try {
    const registered = await registerHost(coordinator, token, host.name, host.address, { fetch });
    if (!registered.ok) return { ok: false, reason: registered.reason, status: registered.status };
    const ports = plan.filter((p) => !busy.includes(p)).map((p) => p.port);
    const probed = await probeHost(coordinator, token, host.name, ports, { fetch });
    if (!probed.ok) return { ok: false, reason: probed.reason, status: probed.status };
    const byPort = new Map(plan.map((p) => [p.port, p]));
    const closed = probed.value.results.filter((r) => !r.reachable).map((r) => ({ ...byPort.get(r.port)!, error: r.error ?? "unreachable" }));
    return { ok: true, result: { busy, closed, reachable: probed.value.results.length - closed.length } };
  } finally {
    for (const listener of listeners) listener.stop(true);
  }
}
