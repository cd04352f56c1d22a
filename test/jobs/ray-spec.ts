/**
 * What Ray 2.60's dashboard accepts, transcribed for the fake head independently of cslr's own
 * src/jobs/spec.ts, so a request that cslr builds wrongly fails here even if cslr's types agree
 * with themselves. Sources (ray 2.60.0 wheel unless noted):
 *  - doc/source/cluster/running-applications/job-submission/openapi.yml (Ray Jobs API 4.0.0):
 *    JobSubmitRequest's properties and types, the routes and their status codes;
 *  - dashboard/modules/job/common.py JobSubmitRequest.__post_init__: entrypoint str,
 *    submission_id str, runtime_env dict with str keys, metadata str → str,
 *    entrypoint_num_cpus/gpus int|float, entrypoint_memory int, entrypoint_resources str → number,
 *    entrypoint_label_selector str → str;
 *  - dashboard/modules/job/utils.py parse_and_validate_request: nulls dropped, then
 *    JobSubmitRequest(**json), so any other key is a TypeError → 400;
 *  - _private/runtime_env/validation.py parse_and_validate_env_vars: env_vars str → str;
 *  - _private/runtime_env/working_dir.py + _common/runtime_env_package.py: a working_dir URI
 *    must name a supported archive (.zip);
 *  - dashboard/http_server_head.py + ray_constants.DASHBOARD_CLIENT_MAX_SIZE: bodies over
 *    100 MiB → 413; dashboard/optional_utils.py is_browser_request: browser-looking requests
 *    may only GET;
 *  - _private/authentication/http_token_authentication.py: `Authorization: Bearer <token>`,
 *    401 missing, 403 wrong;
 *  - dashboard/modules/job/job_head.py: `PUT /api/packages/{protocol}/{package_name}` takes the
 *    raw archive bytes as the body.
 */
import { z } from "zod";

const strToStr = z.record(z.string(), z.string());

/** A runtime_env as cslr may send it: working_dir a gcs:// zip, env_vars strings. */
export const rayRuntimeEnv = z
  .object({
    working_dir: z
      .string()
      .regex(/^gcs:\/\/[^/]+\.zip$/, "a gcs:// URI of a .zip package")
      .nullish(),
    env_vars: strToStr.nullish(),
  })
  .catchall(z.unknown());

export const rayJobSubmitRequest = z.strictObject({
  entrypoint: z.string(),
  submission_id: z.string().nullish(),
  job_id: z.string().nullish(),
  runtime_env: rayRuntimeEnv.nullish(),
  metadata: strToStr.nullish(),
  entrypoint_num_cpus: z.number().nullish(),
  entrypoint_num_gpus: z.number().nullish(),
  entrypoint_memory: z.int().nullish(),
  entrypoint_resources: z.record(z.string(), z.number()).nullish(),
  entrypoint_label_selector: strToStr.nullish(),
});
export type RaySubmitRequest = z.infer<typeof rayJobSubmitRequest>;

/** _common/runtime_env_package.py PACKAGE_UPLOAD_EXTENSIONS, the ones that matter here. */
export const packagePath = /^\/api\/packages\/(gcs)\/([^/]+\.(zip|whl|jar|tar\.gz|tgz|tar))$/;

/** Routes job_head.py registers (method, pattern). */
export const rayRoutes: [string, RegExp][] = [
  ["GET", /^\/api\/version$/],
  // dashboard/modules/node/node_head.py: GET /nodes?view=summary
  ["GET", /^\/nodes$/],
  ["GET", packagePath],
  ["PUT", packagePath],
  ["POST", /^\/api\/jobs\/$/],
  ["GET", /^\/api\/jobs\/$/],
  ["GET", /^\/api\/jobs\/[^/]+$/],
  ["DELETE", /^\/api\/jobs\/[^/]+$/],
  ["POST", /^\/api\/jobs\/[^/]+\/stop$/],
  ["GET", /^\/api\/jobs\/[^/]+\/logs$/],
  ["GET", /^\/api\/jobs\/[^/]+\/logs\/tail$/],
];

export const dashboardMaxBodyBytes = 100 * 1024 * 1024;

/** dashboard/optional_utils.py is_browser_request. */
export function isBrowserRequest(headers: Headers): boolean {
  if ((headers.get("user-agent") ?? "").startsWith("Mozilla")) return true;
  return [
    "referer",
    "origin",
    "sec-fetch-mode",
    "sec-fetch-dest",
    "sec-fetch-site",
    "sec-fetch-user",
    "access-control-request-method",
    "access-control-request-headers",
  ].some((h) => headers.has(h));
}
