/**
 * Where `cslr run` asks Ray to put a job's driver (pure). Ray's Jobs API runs a driver on the
 * head unless told otherwise, so the head's loss would kill every running job with it; with
 * another node alive, the driver goes to any node but the head (a label selector on Ray's
 * built-in node id label; ray 2.60 dashboard/modules/job/job_manager.py `_get_label_selector`),
 * so it outlives a head change when the GCS is fault tolerant. A job that asks for entrypoint
 * resources is left to Ray: its resources choose the node (a GPU driver may need the head's GPU).
 */
import { z } from "zod";

/** The few fields of `GET /nodes?view=summary` this needs (unknown fields pass). */
export const placementSummarySchema = z.object({
  data: z.object({
    summary: z
      .array(
        z.object({
          raylet: z
            .object({
              nodeId: z.string().regex(/^[0-9a-f]{56}$/),
              state: z.string().max(32),
              isHeadNode: z.boolean().nullish(),
              labels: z.record(z.string().max(253), z.string().max(63)).nullish(),
            })
            .nullish(),
        }),
      )
      .max(10_000),
  }),
});

export type PlacementSummary = z.output<typeof placementSummarySchema>;

/** Ray's built-in label holding each node's id. */
export const nodeIdLabel = "ray.io/node-id";

/**
 * The label the node agent gives each Ray node (`ray start --labels`): "false" on a node that
 * can never be head. A whitelisted node that becomes head restarts its Ray, so a driver there
 * would die in a head change too.
 */
export const headCandidateLabel = "cslr.io/head-candidate";

/**
 * The label selector for the driver: a node that can never be head when one is alive, else
 * any node but the head; undefined when the head is alone (Ray's default, the head).
 */
export function driverLabelSelector(summary: PlacementSummary): Record<string, string> | undefined {
  const alive = summary.data.summary.flatMap((n) => (n.raylet && n.raylet.state === "ALIVE" ? [n.raylet] : []));
  const head = alive.find((n) => n.isHeadNode === true);
  const others = alive.filter((n) => n.isHeadNode !== true);
  if (!head || others.length === 0) return undefined;
  if (others.some((n) => n.labels?.[headCandidateLabel] === "false")) return { [headCandidateLabel]: "false" };
  return { [nodeIdLabel]: `!${head.nodeId}` };
}
