import { describe, expect, test } from "bun:test";
import { decodeChunked, parseHttpResponse } from "../../src/clustertest/http.ts";

describe("parseHttpResponse", () => {
  const rows: [string, string, { status: number; body: string } | undefined][] = [
    ["plain", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", { status: 200, body: "{}" }],
    ["HTTP/1.0 404", "HTTP/1.0 404 Not Found\r\n\r\nnope", { status: 404, body: "nope" }],
    ["chunked", 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\n3\r\n:1}\r\n0\r\n\r\n', { status: 200, body: '{"a":1}' }],
    ["multi-byte chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n✓\r\n0\r\n\r\n", { status: 200, body: "✓" }],
    ["not HTTP", "+PONG\r\n\r\n", undefined],
    ["no header end", "HTTP/1.1 200 OK\r\nContent-Length: 2", undefined],
    ["broken chunks", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", undefined],
  ];
  test.each(rows)("%s", (_name, raw, expected) => {
    const parsed = parseHttpResponse(raw);
    expect(parsed ? { status: parsed.status, body: parsed.body } : undefined).toEqual(expected);
  });

  test("headers are read case-insensitively", () => {
    expect(parseHttpResponse("HTTP/1.1 200 OK\r\nX-Thing:  yes \r\n\r\n")!.headers.get("x-thing")).toBe("yes");
  });

  test("a truncated chunk is broken framing", () => {
    expect(decodeChunked("a\r\nshort")).toBeUndefined();
  });
});
