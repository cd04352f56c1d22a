import { describe, expect, test } from "bun:test";
import { claimBody, decodeText, encodeText, isNodeAddress, parseBody, parseWaitSeconds, wantsText } from "../../src/election/protocol.ts";

describe("isNodeAddress", () => {
  const rows: [string, boolean][] = [
    ["ray-cpu", true], ["ray-cpu:6379", true], ["10.0.0.5:6379", true], ["10.0.0.5", true],
    ["ray-cpu:0", false], ["ray-cpu:70000", false], ["a b", false], ["a;b", false], ["", false], [":6379", false],
  ];
  for (const [text, expected] of rows) test(JSON.stringify(text), () => expect(isNodeAddress(text)).toBe(expected));
});

describe("parseBody", () => {
  test("names the field and what is expected", () => {
    expect(parseBody(claimBody, '{"node":"a","address":"a:1"}')).toEqual({ ok: true, value: { node: "a", address: "a:1" } });
    expect(parseBody(claimBody, '{"node":"a"}')).toEqual({ ok: false, error: "address: missing" });
    expect(parseBody(claimBody, '{"node":"a","address":"a:1","x":1}')).toEqual({ ok: false, error: 'body: unknown field "x"' });
    expect(parseBody(claimBody, "nope")).toEqual({ ok: false, error: "body is not valid JSON; expected a JSON object" });
  });
});

describe("text answers", () => {
  test("KEY=value lines; nested values skipped; newlines cannot inject a key", () => {
    const text = encodeText({ ok: true, role: "head", retryAfterMs: 5, address: null, nested: { a: 1 }, error: "x\nROLE=head" });
    expect(text).toBe("OK=1\nROLE=head\nRETRY_AFTER_MS=5\nADDRESS=\nERROR=x ROLE=head\n");
    expect(decodeText(text)).toEqual({ OK: "1", ROLE: "head", RETRY_AFTER_MS: "5", ADDRESS: "", ERROR: "x ROLE=head" });
  });
  test("Accept negotiation", () => {
    expect(wantsText("text/plain")).toBe(true);
    expect(wantsText("application/json")).toBe(false);
    expect(wantsText("text/plain, application/json")).toBe(false);
    expect(wantsText(null)).toBe(false);
  });
  test("wait parameter", () => {
    expect(parseWaitSeconds(null)).toEqual({ ok: true, value: 0 });
    expect(parseWaitSeconds("1.5")).toEqual({ ok: true, value: 1.5 });
    expect(parseWaitSeconds("301").ok).toBe(false);
    expect(parseWaitSeconds("-1").ok).toBe(false);
  });
});
