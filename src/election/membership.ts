/**
 * What a workstation needs to join the cluster, and the reach-back check (the wire format of
 * `/v1/join-info`, `/v1/hosts/register` and `/v1/hosts/probe`; pure). The coordinator renders
 * the join information into `_build/join-info.json` at `cslr generate`; the election service
 * hands it to holders of the cluster token, and `cslr join` checks every field before using it.
 */
import { z } from "zod";
import { isHostname, isHttpUrl, parseIpv4 } from "../config/net.ts";

const port = z.int().min(1).max(65535);
const url = z.string().max(300).refine(isHttpUrl, { message: "expected a plain http(s) URL (no control characters, spaces, credentials, query or fragment)" });
/**
 * An image reference as Docker writes it ([registry[:port]/]path[:tag][@digest]): what the
 * coordinator may choose for a member's Ray nodes. Never an option (`--privileged`), never a
 * space or a line break.
 */
const imageReference = /^[a-z0-9][a-z0-9._-]*(?::[0-9]{1,5})?(?:\/[a-z0-9][a-z0-9._-]*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;
const image = z.string().min(1).max(300).regex(imageReference, { message: "expected an image reference like rayproject/ray:2.60.0" });
const name = z.string().max(253).refine(isHostname, { message: "expected a name (letters, digits, '-' and '.')" });
const ipv4 = z.string().refine((v) => parseIpv4(v) !== undefined, { message: "expected an IPv4 address" });
const headPorts = z.strictObject({ head_port: port, dashboard_port: port, client_port: port });

export const joinInfoSchema = z.strictObject({
  version: z.literal(1),
  /** The coordinator's cslr version: a member must run the same. */
  cslrVersion: z
    .string()
    .max(40)
    .regex(/^[0-9A-Za-z.+-]+$/),
  project: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/)
    .max(63),
  coordinator: z.strictObject({ url, address: ipv4, name }),
  election: z.strictObject({
    whitelist: z.array(name).min(1).max(256),
    leaseTtl: z.number().min(1).max(3600),
    timeout: z.number().min(0.1).max(3600),
  }),
  ray: z.strictObject({
    cpuImage: image,
    gpuImage: image,
    cpu: headPorts,
    gpu: headPorts,
    hostPorts: z.strictObject({ base: port, per_node: z.int().min(20).max(1000) }),
    auth: z.enum(["token", "none"]),
    /** Ray's token: added by the election service from its environment when it answers (never in _build/). */
    authToken: z
      .string()
      .regex(/^[A-Za-z0-9_-]{16,256}$/)
      .optional(),
  }),
  mlflow: z.strictObject({ trackingUri: url.optional() }),
  redis: z.strictObject({
    url: z
      .string()
      .max(300)
      .regex(/^redis:\/\/[A-Za-z0-9.-]+:\d{1,5}$/, { message: "expected redis://HOST:PORT" })
      .optional(),
    /** GCS fault tolerance: the cluster's namespace in that Redis (every head uses it). */
    gcsNamespace: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional(),
    /** The password of its `ray` user: added by the election service from its environment when it answers (never in _build/). */
    gcsPassword: z
      .string()
      .regex(/^[A-Za-z0-9_-]{16,256}$/)
      .optional(),
  }),
});

export type JoinInfo = z.output<typeof joinInfoSchema>;

export const registerBody = z.strictObject({ name, address: ipv4 });

/** At most this many ports per reach-back check, each tried for at most probeTimeoutMs. */
export const maxProbePorts = 256;
export const probeTimeoutMs = 1500;

export const probeBody = z.strictObject({ name, ports: z.array(port).min(1).max(maxProbePorts) });

export const probeAnswer = z.strictObject({
  ok: z.literal(true),
  address: ipv4,
  results: z.array(z.strictObject({ port, reachable: z.boolean(), error: z.string().max(200).optional() })).max(maxProbePorts),
});

export type ProbeAnswer = z.output<typeof probeAnswer>;
