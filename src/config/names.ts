/** Node names (pure): `ray-gpu.ws2` is the ray-gpu service on the workstation ws2. */

/** A node's name in the cluster: the service alone on one workstation, `service.host` with several. */
export function nodeName(service: string, mode: "bridge" | "host", host: string): string {
  return mode === "host" ? `${service}.${host}` : service;
}

/** `ray-gpu.ws2` → `ray-gpu`: a short whitelist entry names that service on every host. */
export function serviceOf(node: string): string {
  const dot = node.indexOf(".");
  return dot < 0 ? node : node.slice(0, dot);
}

/** `ray-gpu.ws2` → `ws2`; undefined for a name without a host. */
export function hostOfNode(node: string): string | undefined {
  const dot = node.indexOf(".");
  return dot < 0 ? undefined : node.slice(dot + 1);
}

/** Whether a whitelist entry names this node: exactly, or by its service on any host. */
export function whitelists(whitelist: readonly string[], name: string): boolean {
  return whitelist.includes(name) || whitelist.includes(serviceOf(name));
}
