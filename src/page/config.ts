/**
 * What the lab page needs to know beyond the election (`_build/page.json`, rendered by
 * `cslr generate`, passed as `cslr health serve --page FILE`; pure). Addresses for checks are
 * as the health container reaches them (service names on the compose network); links are as a
 * browser on the lab's network reaches them (the coordinator's address). No secret in it.
 */
import { z } from "zod";

const port = z.int().min(1).max(65535);
const url = z
  .string()
  .max(300)
  .refine((v) => /^https?:\/\/[^\s/]+/.test(v) && URL.canParse(v), { message: "expected an http(s) URL" });
const hostPort = z
  .string()
  .max(300)
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, { message: "expected host:port" });

export const pageConfigSchema = z.strictObject({
  version: z.literal(1),
  project: z.string().max(63),
  /** Dashboard port of each Ray service that may be head (`ray-cpu`, `ray-gpu`). */
  dashboardPorts: z.record(z.string().max(63), port),
  services: z
    .array(
      z.strictObject({ name: z.string().max(40), check: z.union([z.strictObject({ http: url }), z.strictObject({ tcp: hostPort })]), link: url.optional() }),
    )
    .max(16),
  /** MLflow's REST API (from the health container) and its UI (from a browser). */
  mlflow: z.strictObject({ api: url, ui: url }).optional(),
  /** The line a new workstation runs (no secret in it). */
  joinLine: z.string().max(300).optional(),
});

export type PageConfig = z.output<typeof pageConfigSchema>;

/** Without a page file: the page still shows the election, and asks a head's dashboard on Ray's default port. */
export function defaultPageConfig(): PageConfig {
  return { version: 1, project: "cslr", dashboardPorts: {}, services: [] };
}

export const defaultDashboardPort = 8265;
