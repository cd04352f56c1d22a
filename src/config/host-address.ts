/**
 * This host's address as the model sees it: `host.address` (an address, or auto-detection
 * towards the coordinator when this is a member workstation). One home for the five places
 * that print or render it.
 */
import { resolveHostAddress } from "../host/address.ts";
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
