/** The node agent's pin (CSLR_HEALTH_PIN): required with an https election service, strictly 64 hex digits. */
import { expect, test } from "bun:test";
import { parseSettings } from "../../src/node/settings.ts";

const pin = "ab".repeat(32);

test("https with a pin: the agent pins the service", () => {
  expect(parseSettings({ CSLR_HEALTH_URL: "https://10.0.0.5:8888", CSLR_HEALTH_PIN: pin }, "n").electionPin).toBe(pin);
});

test("https without a pin: the agent refuses to start, naming the variable", () => {
  expect(() => parseSettings({ CSLR_HEALTH_URL: "https://10.0.0.5:8888" }, "n")).toThrow(/CSLR_HEALTH_PIN/);
});

test.each(["AB".repeat(32), "ab".repeat(31), `${"ab".repeat(32)}\n`, "sha256:" + "ab".repeat(32)])("a malformed pin %p is refused", (bad) => {
  expect(() => parseSettings({ CSLR_HEALTH_URL: "https://10.0.0.5:8888", CSLR_HEALTH_PIN: bad }, "n")).toThrow(/CSLR_HEALTH_PIN/);
});

test("plain http (asked for on the coordinator) needs no pin", () => {
  expect(parseSettings({ CSLR_HEALTH_URL: "http://health:8080" }, "n").electionPin).toBeUndefined();
});
