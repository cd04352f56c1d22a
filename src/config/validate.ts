/**
 * Pure validation: YAML text → typed config or every problem at once, each with its position.
 * Three steps: parse (syntax, document shape) → schema (zod) → rules across fields.
 */
import { isMap, LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { diagnosticAt, diagnosticAtKey, type Diagnostic, type PathSegment, type SourceFile } from "./diagnostics.ts";
import { cidrsOverlap, parseIpv4Cidr, portRange } from "./net.ts";
import { pinnedPortList, pinnedPortsOf, testWorkerPinnedPorts } from "./normalise.ts";
import type { Config, Nodes } from "./schema.ts";
import { closestMatch } from "./suggest.ts";

export type Parsed<T> = { ok: true; value: T; source: SourceFile } | { ok: false; diagnostics: Diagnostic[]; source?: SourceFile };

/** Parses YAML text into a document whose top level is a mapping. */
export function parseYamlSource(file: string, text: string): { source?: SourceFile; diagnostics: Diagnostic[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source: SourceFile = { file, doc, lines };
  if (doc.errors.length > 0) {
    return {
      diagnostics: doc.errors.map((error) => {
        const pos = error.linePos?.[0] ?? lines.linePos(error.pos[0]);
        const what = error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
        return { file, line: pos.line, col: pos.col, path: "(document)", message: `YAML syntax error: ${what}; expected valid YAML` };
      }),
    };
  }
  if (doc.contents === null) {
    return { diagnostics: [{ file, line: 1, col: 1, path: "(document)", message: "empty file; expected a YAML mapping of settings" }] };
  }
  if (!isMap(doc.contents)) {
    return { diagnostics: [diagnosticAt(source, [], "not a mapping; expected a YAML mapping of settings at the top level")] };
  }
  return { source, diagnostics: [] };
}

/** The object keys a schema accepts at `path`, for did-you-mean on unknown keys. */
function knownKeys(schema: z.ZodType, path: readonly PathSegment[]): string[] {
  let current: any = schema;
  const unwrap = () => {
    while (current?._zod?.def && ["default", "prefault", "optional", "nullable", "pipe"].includes(current._zod.def.type)) {
      current = current._zod.def.innerType ?? current._zod.def.in;
    }
  };
  unwrap();
  for (const segment of path) {
    if (current?._zod?.def?.type === "object") current = current._zod.def.shape[segment];
    else if (current?._zod?.def?.type === "array") current = current._zod.def.element;
    else return [];
    unwrap();
  }
  return current?._zod?.def?.type === "object" ? Object.keys(current._zod.def.shape) : [];
}

function describeReceived(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

const typeNames: Record<string, string> = {
  object: "a mapping",
  array: "a list",
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
};

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let current: any = data;
  for (const segment of path) current = current?.[segment];
  return current;
}

/** Turns zod issues into positioned one-line diagnostics. */
export function schemaDiagnostics(schema: z.ZodType, source: SourceFile, data: unknown, issues: z.core.$ZodIssue[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const issue of issues) {
    const path = issue.path as PathSegment[];
    if (issue.code === "unrecognized_keys") {
      const known = knownKeys(schema, path);
      for (const key of issue.keys) {
        const suggestion = closestMatch(key, known);
        const expected = suggestion ? `did you mean "${suggestion}"?` : `expected one of: ${known.join(", ")}`;
        out.push(diagnosticAtKey(source, path, key, `unknown key "${key}"; ${expected}`));
      }
      continue;
    }
    const received = valueAt(data, path);
    let message = issue.message;
    if (received === undefined && issue.code === "invalid_type") {
      message = `missing; ${message.includes("expected") ? message.slice(message.indexOf("expected")) : "a value is required"}`;
    } else if (issue.code === "invalid_type" && message.startsWith("Invalid input")) {
      message = `wrong type (${describeReceived(received)}); expected ${typeNames[issue.expected] ?? issue.expected}`;
    } else if (!message.includes("expected")) {
      message = `${message}; got ${describeReceived(received)}`;
    } else if (received !== undefined && !message.startsWith("missing")) {
      message = `${message} (got ${describeReceived(received)})`;
    }
    out.push(diagnosticAt(source, path, message));
  }
  return out;
}

/** Parses and schema-checks one file. */
export function validateSource<S extends z.ZodType>(schema: S, file: string, text: string): Parsed<z.output<S>> {
  const { source, diagnostics } = parseYamlSource(file, text);
  if (!source) return { ok: false, diagnostics };
  const data = source.doc.toJS();
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, value: result.data, source };
  return { ok: false, diagnostics: schemaDiagnostics(schema, source, data, result.error.issues), source };
}

// ---------------------------------------------------------------- rules across fields

/** A problem found by a rule across fields; positioned later, only when it is reported. */
export interface Problem {
  path: PathSegment[];
  message: string;
}

export function positioned(source: SourceFile, problems: Problem[]): Diagnostic[] {
  return problems.map((p) => diagnosticAt(source, p.path, p.message));
}

export interface HostPortUse {
  /** The compose service that publishes the port. */
  service: string;
  key: string;
  path: PathSegment[];
  port: number;
}

/** The test worker's port range, when it is a sane one (the range rule reports the others). */
function workerPortRange(config: Config): number[] {
  const { min_worker_port: min, max_worker_port: max } = config.cluster_test.worker;
  if (min > max || max - min >= 1000) return [];
  return portRange(min, max);
}

/** Every host port the stack publishes, with the config key that sets it. */
export function publishedHostPorts(config: Config, gpuEnabled: boolean): HostPortUse[] {
  const s = config.services;
  const uses: HostPortUse[] = [];
  const add = (enabled: boolean, service: string, path: PathSegment[], port: number) => {
    if (enabled) uses.push({ service, key: path.join("."), path, port });
  };
  add(s.health.enabled, "health", ["services", "health", "port"], s.health.port);
  for (const [kind, enabled] of [["cpu", s.ray.cpu.enabled], ["gpu", gpuEnabled]] as const) {
    const node = s.ray[kind];
    for (const field of ["head_port", "dashboard_port", "client_port"] as const) {
      add(enabled, `ray-${kind}`, ["services", "ray", kind, field], node[field]);
    }
  }
  add(s.redis.enabled, "ray-redis", ["services", "redis", "port"], s.redis.port);
  add(s.mlflow.enabled, "mlflow", ["services", "mlflow", "port"], s.mlflow.port);
  add(s.marimo.enabled, "marimo", ["services", "marimo", "port"], s.marimo.port);
  // On the host network every Ray node's block of pinned ports is on this host too.
  if (config.network.mode === "host") {
    const { base, per_node: perNode } = s.ray.host_ports;
    const services = [...(s.ray.cpu.enabled ? ["ray-cpu"] : []), ...(gpuEnabled ? ["ray-gpu"] : []), ...Array.from({ length: s.ray.workers }, (_, i) => `ray-worker-${i + 1}`)];
    services.forEach((service, index) => {
      if (base + (index + 1) * perNode - 1 > 65535) return;
      for (const port of pinnedPortList(pinnedPortsOf(base, perNode, index))) {
        uses.push({ service, key: `services.ray.host_ports (block of ${service})`, path: ["services", "ray", "host_ports", "base"], port });
      }
    });
  }
  // The cluster test's worker publishes these on the same host while `cslr test` runs.
  const worker = testWorkerPinnedPorts(config.cluster_test.worker);
  add(true, "test-ray-worker", ["cluster_test", "worker", "node_manager_port"], worker.nodeManagerPort);
  add(true, "test-ray-worker", ["cluster_test", "worker", "object_manager_port"], worker.objectManagerPort);
  for (const port of [worker.runtimeEnvAgentPort, worker.dashboardAgentGrpcPort, worker.dashboardAgentListenPort, worker.metricsExportPort]) {
    uses.push({ service: "test-ray-worker", key: "cluster_test.worker.object_manager_port (+1..+4: Ray's agents)", path: ["cluster_test", "worker", "object_manager_port"], port });
  }
  for (const port of workerPortRange(config)) {
    uses.push({ service: "test-ray-worker", key: "cluster_test.worker.min_worker_port..max_worker_port", path: ["cluster_test", "worker", "min_worker_port"], port });
  }
  return uses;
}

/** The blocks of all Ray nodes must fit below 65536. */
export function hostPortBlockProblems(config: Config, gpuEnabled: boolean): Problem[] {
  if (config.network.mode !== "host") return [];
  const { base, per_node: perNode } = config.services.ray.host_ports;
  const count = (config.services.ray.cpu.enabled ? 1 : 0) + (gpuEnabled ? 1 : 0) + config.services.ray.workers;
  const last = base + count * perNode - 1;
  if (last <= 65535) return [];
  return [{ path: ["services", "ray", "host_ports", "base"], message: `${count} Ray nodes × ${perNode} ports from ${base} end at ${last}; expected them to fit below 65536 (lower base or per_node)` }];
}

export function workerPortRangeProblems(config: Config): Problem[] {
  const { min_worker_port: min, max_worker_port: max } = config.cluster_test.worker;
  if (min <= max && max - min < 1000) return [];
  return [
    {
      path: ["cluster_test", "worker", "max_worker_port"],
      message: `worker port range ${min}..${max} is ${min > max ? "empty" : "too wide"}; expected min_worker_port <= max_worker_port and at most 1000 ports`,
    },
  ];
}

export function duplicatePortProblems(uses: HostPortUse[]): Problem[] {
  const byPort = new Map<number, HostPortUse[]>();
  for (const use of uses) byPort.set(use.port, [...(byPort.get(use.port) ?? []), use]);
  const out: Problem[] = [];
  for (const use of uses) {
    const others = byPort.get(use.port)!.filter((u) => u !== use).map((u) => u.key);
    if (others.length > 0) {
      out.push({ path: use.path, message: `host port ${use.port} is also used by ${others.join(", ")}; expected each host port once` });
    }
  }
  return out;
}

export function subnetProblems(config: Config): Problem[] {
  const main = parseIpv4Cidr(config.network.subnet);
  const test = parseIpv4Cidr(config.cluster_test.subnet);
  if (main && test && cidrsOverlap(main, test)) {
    return [
      {
        path: ["cluster_test", "subnet"],
        message: `${config.cluster_test.subnet} overlaps network.subnet ${config.network.subnet}; expected a separate subnet so the test network is isolated`,
      },
    ];
  }
  return [];
}

/**
 * With several workstations (host networking) a member's Ray nodes reach the election service
 * through the host's network, where the container name `health` means nothing.
 */
export function hostNetworkUrlProblems(config: Config, nodes: Nodes): Problem[] {
  if (config.network.mode !== "host" || config.services.health.enabled) return [];
  const host = new URL(nodes.health_service.url).hostname;
  if (host !== "health") return [];
  return [
    {
      path: ["health_service", "url"],
      message: `${nodes.health_service.url} is a container name, which Ray nodes on the host network cannot resolve; expected the coordinator's address, like http://10.0.0.5:8888 (cslr join writes it)`,
    },
  ];
}

/**
 * On one workstation (bridge networking) with no fixed head_address, some whitelisted node
 * must be a Ray service that runs here. With several workstations the head may be elsewhere.
 */
export function whitelistProblems(config: Config, nodes: Nodes, enabledRayServices: string[]): Problem[] {
  if (nodes.head_address !== null || config.network.mode === "host") return [];
  if (nodes.head_whitelist.some((name) => enabledRayServices.includes(name))) return [];
  const enabled = enabledRayServices.length > 0 ? enabledRayServices.join(", ") : "none are enabled";
  return [
    {
      path: ["head_whitelist"],
      message: `no whitelisted node is an enabled Ray service, so no node could become head; expected at least one of: ${enabled}`,
    },
  ];
}
