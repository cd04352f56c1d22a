import { describe, expect, test } from "bun:test";
import { isNodeAddress, parseHostPort } from "../../src/config/net.ts";
import { nodeKey, presentedBearer, sameSecret } from "../../src/election/auth.ts";
import { claimBody, parseBody, parseWaitQuery } from "../../src/election/protocol.ts";

describe("isNodeAddress / parseHostPort (the one host:port parser)", () => {
  const rows: [string, boolean][] = [
    ["ray-cpu", true],
    ["ray-cpu:6379", true],
    ["10.0.0.5:6379", true],
    ["10.0.0.5", true],
    ["[::1]:80", true],
    ["ray-cpu:0", false],
    ["ray-cpu:70000", false],
    ["a b", false],
    ["a;b", false],
    ["", false],
    [":6379", false],
    ["$(touch /tmp/x):1", false],
    ["a:1:2", false],
    ["R[$(id)]:6379", false],
  ];
  for (const [text, expected] of rows) test(JSON.stringify(text), () => expect(isNodeAddress(text)).toBe(expected));
  test("parts", () => {
    expect(parseHostPort("10.0.0.5:6379")).toEqual({ host: "10.0.0.5", port: 6379 });
    expect(parseHostPort("[fe80::1]:80")).toEqual({ host: "fe80::1", port: 80 });
    expect(parseHostPort("10.0.0.5")).toBeUndefined();
  });
});

describe("parseBody", () => {
  test("names the field and what is expected", () => {
    expect(parseBody(claimBody, '{"node":"a","address":"a:1"}')).toEqual({ ok: true, value: { node: "a", address: "a:1" } });
    expect(parseBody(claimBody, '{"node":"a","address":"a:1","host":"ws2"}')).toEqual({ ok: true, value: { node: "a", address: "a:1", host: "ws2" } });
    expect(parseBody(claimBody, '{"node":"a"}')).toEqual({ ok: false, error: "address: missing" });
    expect(parseBody(claimBody, '{"node":"a","address":"a:1","x":1}')).toEqual({ ok: false, error: 'body: unknown field "x"' });
    expect(parseBody(claimBody, "nope")).toEqual({ ok: false, error: "body is not valid JSON; expected a JSON object" });
  });
  test("wait parameter", () => {
    expect(parseWaitQuery(null)).toEqual({ ok: true, value: 0 });
    expect(parseWaitQuery("1.5")).toEqual({ ok: true, value: 1.5 });
    expect(parseWaitQuery("31").ok).toBe(false);
    expect(parseWaitQuery("-1").ok).toBe(false);
  });
});

describe("auth", () => {
  test("node keys differ per node and per token; comparison is by value", () => {
    expect(nodeKey("t", "a")).not.toBe(nodeKey("t", "b"));
    expect(nodeKey("t", "a")).not.toBe(nodeKey("u", "a"));
    expect(nodeKey("t", "a")).toMatch(/^[0-9a-f]{64}$/);
    expect(sameSecret(nodeKey("t", "a"), nodeKey("t", "a"))).toBe(true);
    expect(sameSecret("", nodeKey("t", "a"))).toBe(false);
    expect(presentedBearer("Bearer  abc ")).toBe("abc");
    expect(presentedBearer("Basic abc")).toBe("");
  });
});
