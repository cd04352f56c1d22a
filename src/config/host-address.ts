/**
 * This host's address as the model sees it: `host.address` (an address, or auto-detection
 * towards the coordinator when this is a member workstation). One home for the five places
 * that print or render it.
 */
import { UsageError } from "../errors.ts";
import { chooseHostAddressNow, resolveHostAddress } from "../host/address.ts";
import { log } from "../log.ts";
import type { Model } from "./model.ts";
import { coordinatorHostOf } from "./urls.ts";

/** The detected or configured address; undefined when none could be found. */
export function detectedHostAddressOf(model: Model): Promise<string | undefined> {
  return resolveHostAddress(model.host.address, coordinatorHostOf(model));
}

/** The address to print and publish, loopback when none could be found. */
export async function hostAddressOf(model: Model): Promise<string> {
  return (await detectedHostAddressOf(model)) ?? "127.0.0.1";
}

/**
 * The address this host advertises in what it renders. On the host network (a lab of
 * workstations) there must be a good one: without it the join line and Ray would advertise
 * 0.0.0.0 or loopback, so refuse with the fix. In bridge networking the stack stays on this
 * machine and a fallback will do (undefined).
 */
export async function advertisedHostAddressOf(model: Model): Promise<string | undefined> {
  if (model.network.mode !== "host") return detectedHostAddressOf(model);
  const choice = await chooseHostAddressNow(model.host.address, coordinatorHostOf(model));
  if ("problem" in choice) throw new UsageError(`host.address auto: ${choice.problem}`);
  if (choice.fallback) log.info(`host.address auto: ${choice.address} (${choice.why})`);
  return choice.address;
}
