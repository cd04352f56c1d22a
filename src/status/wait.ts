/**
 * `up --wait`: poll compose and the roster until the cluster is ready, fails, or the deadline
 * passes, showing the phase as it changes. The polling and the clock are injected.
 */
import type { Model } from "../config/model.ts";
import type { PsRow } from "../compose/ps.ts";
import { describePhase, waitPhase, type WaitExpectation, type WaitPhase } from "./phase.ts";
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
    if (phase.kind === "election") phase = waitPhase(rows, await io.roster(), expect);
    if (phase.kind === "ready" && phase.head && io.jobsApi) {
      const reason = await io.jobsApi(phase.head);
      if (reason !== undefined) phase = { kind: "jobs-api", head: phase.head, reason };
    }
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
