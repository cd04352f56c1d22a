/**
 * The election roster as `status` and `up --wait` use it (the wire types of election/roster.ts),
 * and where to ask for it.
 */
import type { Model } from "../config/model.ts";
import { localElectionUrl } from "../config/urls.ts";
import type { RosterHeadView, RosterMember, RosterView } from "../election/roster.ts";

export type Roster = RosterView;
export type RosterHead = RosterHeadView;
export type RosterWorker = RosterMember;

/** The election service as seen from this host: its published port on loopback, or the configured URL when it runs elsewhere. */
export function rosterUrl(model: Model): string {
  return localElectionUrl(model);
}
