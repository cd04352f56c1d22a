/**
 * `up --wait`: poll compose and the roster until the cluster is ready, fails, or the deadline
 * passes, showing the phase as it changes. The polling and the clock are injected.
 */
import type { Model } from "../config/model.ts";
import type { PsRow } from "../compose/ps.ts";
import { describePhase, rayNodesMissing, waitPhase, type RayNodeSeen, type WaitExpectation, type WaitPhase } from "./phase.ts";
import type { RosterView } from "../election/roster.ts";

/** How long `up --wait` and `join --up` wait when no --wait-timeout is given. */
export const defaultWaitSeconds = 300;

/** What to wait for, from the services being started and (when loaded) the model. */
export function waitExpectation(services: string[], model: Model | undefined): WaitExpectation {
  if (!model) return { services, election: false, nodes: [] };
  const rayNodes = model.rayNodes.filter((n) => services.includes(n.service));
  const healthService = model.config.services.health.enabled && services.includes("health") ? "health" : undefined;
  return {
    services,
    healthService,
    election: model.election.headAddress === null && rayNodes.length > 0,
    nodes: rayNodes.map((n) => n.name),
  };
}

/** The service whose logs explain a failure or a stall in this phase. */
export function culpritService(phase: WaitPhase, expect: WaitExpectation, model: Model | undefined): string | undefined {
  switch (phase.kind) {
    case "failed":
      return phase.service;
    case "containers":
      return phase.pending[0];
    case "health":
      return expect.healthService;
    case "election":
      return expect.healthService ?? model?.rayNodes.find((n) => expect.services.includes(n.service))?.service;
    case "workers":
      return model?.rayNodes.find((n) => phase.missing.includes(n.name))?.service ?? model?.rayNodes.find((n) => n.name === phase.head)?.service;
    case "healthchecks":
      return phase.pending[0];
    case "jobs-api":
      return model?.rayNodes.find((n) => n.name === phase.head)?.service;
    case "ray-nodes":
      return model?.rayNodes.find((n) => phase.missing.includes(n.name))?.service ?? model?.rayNodes.find((n) => n.name === phase.head)?.service;
    case "ready":
      return undefined;
  }
}

export interface WaitIo {
  ps(): Promise<PsRow[]>;
  /** Called only once the containers are up and healthy. */
  roster(): Promise<{ roster: RosterView } | { error: string }>;
  /**
   * Called only once a head is ready on the roster: undefined when its Jobs API answers (a
   * job can be submitted), else why not. Ready on the roster means the GCS port opened; the
   * head's dashboard answers seconds later, and a `cslr run` in between met ECONNRESET.
   */
  jobsApi?(head: string): Promise<string | undefined>;
  /**
   * Called only once the Jobs API answers: the nodes in the head's own node list, or why it
   * could not be read; undefined when the dashboard keeps no such list (not Ray's: nothing to
   * wait for). A head whose GCS port opened can still have a raylet that never registers
   * (Ray's "node timed out during startup"): its Jobs API answers, yet every job fails.
   */
  rayNodes?(head: string): Promise<RayNodeSeen[] | string | undefined>;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Shows the current phase (spinner or plain line). */
  progress(phase: WaitPhase, text: string): void;
}

export async function waitForCluster(
  expect: WaitExpectation,
  deadlineSeconds: number,
  io: WaitIo,
  intervalMs = 500,
): Promise<{ phase: WaitPhase; timedOut: boolean }> {
  const deadline = io.now() + deadlineSeconds * 1000;
  let readyBefore = false;
  for (;;) {
    const rows = await io.ps();
    let phase = waitPhase(rows, undefined, expect);
    let roster: Awaited<ReturnType<WaitIo["roster"]>> | undefined;
    if (phase.kind === "election") phase = waitPhase(rows, (roster = await io.roster()), expect);
    if (phase.kind === "ready" && phase.head && roster && "roster" in roster) phase = await usablePhase(phase, phase.head, roster.roster, expect, io);
    // The caller reports a failure itself; showing it here too would say it twice.
    if (phase.kind === "failed") return { phase, timedOut: false };
    // A container that dies right after starting is "running" on the first look: accept
    // ready only when a second look, one interval later, still says so.
    if (phase.kind === "ready" && readyBefore) {
      io.progress(phase, describePhase(phase));
      return { phase, timedOut: false };
    }
    readyBefore = phase.kind === "ready";
    if (!readyBefore) io.progress(phase, describePhase(phase));
    if (io.now() >= deadline) return { phase, timedOut: true };
    await io.sleep(Math.min(intervalMs, Math.max(0, deadline - io.now())));
  }
}

/**
 * Ready on the roster is not yet usable: the head's Jobs API must answer, and the head and
 * this host's nodes must be ALIVE in Ray's own node list. The phase that still waits, or `ready`.
 */
async function usablePhase(ready: WaitPhase, head: string, roster: RosterView, expect: WaitExpectation, io: WaitIo): Promise<WaitPhase> {
  const reason = io.jobsApi ? await io.jobsApi(head) : undefined;
  if (reason !== undefined) return { kind: "jobs-api", head, reason };
  const seen = io.rayNodes ? await io.rayNodes(head) : undefined;
  if (seen === undefined) return ready;
  const nodes = [...new Set([head, ...expect.nodes])];
  if (typeof seen === "string") return { kind: "ray-nodes", head, alive: 0, expected: nodes.length, missing: nodes, reason: seen };
  const missing = rayNodesMissing(nodes, roster, seen);
  return missing.length === 0 ? ready : { kind: "ray-nodes", head, alive: nodes.length - missing.length, expected: nodes.length, missing };
}

const spinnerFrames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** A progress display: a spinner line rewritten in place on a TTY, a line per change otherwise; nothing when quiet. */
export function progressPrinter(stream: { isTTY?: boolean; write(text: string): unknown }, options: { quiet?: boolean } = {}) {
  let last = "";
  let frame = 0;
  if (options.quiet) return { show(_text: string) {}, done() {} };
  return {
    show(text: string) {
      if (stream.isTTY) {
        stream.write(`\r\x1b[2K${spinnerFrames[frame++ % spinnerFrames.length]} ${text}`);
      } else if (text !== last) {
        stream.write(`${text}\n`);
      }
      last = text;
    },
    done() {
      if (stream.isTTY && last) stream.write(`\r\x1b[2K${last}\n`);
    },
  };
}
