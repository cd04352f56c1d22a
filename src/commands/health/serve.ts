import { readFileSync } from "node:fs";
import { defineCommand } from "citty";
import { ConfigError } from "../../config/config-error.ts";
import { nodesSchema, isHostname, port as portSchema } from "../../config/schema.ts";
import { validateSource } from "../../config/validate.ts";
import { parseDurationMs } from "../../config/units.ts";
import { startLabServer, type LabServer } from "../../page/server.ts";
import { joinInfoSchema, type JoinInfo } from "../../election/membership.ts";
import { UsageError } from "../../errors.ts";
import { pageConfigSchema, type PageConfig } from "../../page/config.ts";
import { pinOfPem } from "../../election/tls.ts";

/** The whitelist of a nodes.yaml; each problem is one line naming the file, position and field. */
function whitelistFromNodesFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`${path}: cannot read nodes file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); expected a nodes.yaml`);
  }
  // The same validation as `cslr generate`: every problem, FILE:LINE:COL  field  message.
  const parsed = validateSource(nodesSchema, path, text);
  if (!parsed.ok) throw new ConfigError(parsed.diagnostics);
  return parsed.value.head_whitelist;
}

function whitelistFromFlag(flag: string): string[] {
  const names = flag
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.find((n) => !isHostname(n));
  if (bad !== undefined) throw new UsageError(`--whitelist: ${JSON.stringify(bad)} is not a hostname; expected names like ray-cpu,ray-gpu`);
  return names;
}

/** The join information file, checked against its schema: a bad one is exit 2 with the field. */
function readJoinInfo(path: string): JoinInfo {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`--join-info ${path}: ${(error as Error).message.split("\n")[0]}; expected the join-info.json cslr generate writes`);
  }
  const parsed = joinInfoSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`--join-info ${path}: ${issue.path.join(".") || "(document)"}: ${issue.message}`);
  }
  return parsed.data;
}

/** The certificate and key for HTTPS, both or neither; a file that is not PEM is exit 2 with its flag. */
function readTls(certPath: string | undefined, keyPath: string | undefined): { cert: string; key: string } | undefined {
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined || keyPath === undefined)
    throw new UsageError("--tls-cert and --tls-key: expected both (the certificate and its key), or neither for plain HTTP");
  const read = (flag: string, path: string, label: RegExp) => {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      throw new UsageError(`${flag} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); expected a PEM file`);
    }
    if (!label.test(text))
      throw new UsageError(`${flag} ${path}: not a PEM ${flag === "--tls-cert" ? "certificate" : "private key"}; expected the file cslr init writes`);
    return text;
  };
  const cert = read("--tls-cert", certPath, /-----BEGIN CERTIFICATE-----/);
  if (pinOfPem(cert) === undefined) throw new UsageError(`--tls-cert ${certPath}: not a readable certificate; expected the file cslr init writes`);
  return { cert, key: read("--tls-key", keyPath, /-----BEGIN (EC |)PRIVATE KEY-----/) };
}

/** The lab page's file, checked against its schema: a bad one is exit 2 with the field. */
function readPageConfig(path: string): PageConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`--page ${path}: ${(error as Error).message.split("\n")[0]}; expected the page.json cslr generate writes`);
  }
  const parsed = pageConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`--page ${path}: ${issue.path.join(".") || "(document)"}: ${issue.message}`);
  }
  return parsed.data;
}

let running: LabServer | undefined;

export default defineCommand({
  meta: { name: "serve", description: "Run the head election service (leases, terms, roster)" },
  args: {
    host: { type: "string", description: "Address to listen on", default: "0.0.0.0" },
    port: { type: "string", description: "Port to listen on", default: "8080" },
    nodes: { type: "string", description: "nodes.yaml with head_whitelist", valueHint: "FILE" },
    whitelist: { type: "string", description: "Comma-separated nodes that may become head (added to --nodes)", valueHint: "a,b" },
    state: { type: "string", description: "File the election state is written to (keeps the head across restarts)", valueHint: "FILE" },
    "lease-ttl": { type: "string", description: "Lease lifetime without a renewal, 1s to 1h: 30s, 2m or seconds", default: "30s" },
    "join-info": { type: "string", description: "What workstations that join are told (_build/join-info.json)", valueHint: "FILE" },
    page: { type: "string", description: "What the lab page at / shows beyond the election (_build/page.json)", valueHint: "FILE" },
    "tls-cert": { type: "string", description: "PEM certificate: speak HTTPS (with --tls-key; clients pin its SHA-256)", valueHint: "FILE" },
    "tls-key": { type: "string", description: "PEM private key of --tls-cert", valueHint: "FILE" },
  },
  async run({ args }) {
    const port = portSchema.safeParse(Number(args.port));
    if (!/^\d+$/.test(args.port) || !port.success) throw new UsageError(`--port ${JSON.stringify(args.port)}: expected an integer from 1 to 65535`);
    const leaseTtlMs = parseDurationMs(args["lease-ttl"]);
    if (leaseTtlMs === undefined || leaseTtlMs < 1000 || leaseTtlMs > 3_600_000) {
      throw new UsageError(`--lease-ttl ${JSON.stringify(args["lease-ttl"])}: expected a duration from 1s to 1h, like 30s`);
    }
    const whitelist = [...(args.nodes ? whitelistFromNodesFile(args.nodes) : []), ...(args.whitelist ? whitelistFromFlag(args.whitelist) : [])];
    if (whitelist.length === 0) throw new UsageError("no head whitelist; expected --nodes FILE (with head_whitelist) or --whitelist a,b");
    const token = process.env.CSLR_CLUSTER_TOKEN || undefined;
    const joinInfo = args["join-info"] ? readJoinInfo(args["join-info"]) : undefined;
    // Ray's token (for the head's Jobs API and node figures) comes from the environment, never a file.
    const page = { ...(args.page ? { config: readPageConfig(args.page) } : {}), rayToken: process.env.RAY_AUTH_TOKEN || undefined };
    const tls = readTls(args["tls-cert"], args["tls-key"]);

    // Listen for the stop signal before the port opens: whoever sees the port may stop us.
    const stopped = new Promise<void>((resolve) => {
      process.once("SIGTERM", resolve);
      process.once("SIGINT", resolve);
    });
    try {
      running = startLabServer({
        host: args.host,
        port: port.data,
        whitelist: [...new Set(whitelist)],
        leaseTtlMs,
        token,
        statePath: args.state,
        joinInfo,
        page,
        tls,
      });
    } catch (error) {
      if (error instanceof Error && error.name === "CslrError") throw error;
      throw new UsageError(`cannot listen on ${args.host}:${args.port}: ${(error as Error).message}`);
    }
    process.stderr.write(
      `${JSON.stringify({ ts: new Date().toISOString(), event: "listen", url: running.url, whitelist, leaseTtlMs, auth: token ? "token" : "none", tls: tls ? pinOfPem(tls.cert) : null, state: args.state ?? null })}\n`,
    );
    await stopped;
  },
  async cleanup() {
    await running?.stop();
    running = undefined;
  },
});
