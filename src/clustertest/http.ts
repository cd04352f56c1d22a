/**
 * Pure: reads the raw HTTP/1.1 response a bash `/dev/tcp` probe prints. The test containers
 * may have neither curl nor python, but every Ray image has bash.
 */
export interface HttpResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** Decodes `Transfer-Encoding: chunked`; returns undefined when the framing is broken. */
export function decodeChunked(raw: string): string | undefined {
  let rest = raw;
  let body = "";
  for (;;) {
    const lineEnd = rest.indexOf("\r\n");
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(rest.slice(0, lineEnd).split(";")[0]!.trim(), 16);
    if (!Number.isFinite(size)) return undefined;
    if (size === 0) return body;
    const start = lineEnd + 2;
    // Sizes count bytes; the probe output is text, so measure in bytes too.
    const bytes = new TextEncoder().encode(rest.slice(start));
    if (bytes.length < size) return undefined;
    const chunk = new TextDecoder().decode(bytes.slice(0, size));
    body += chunk;
    rest = rest.slice(start + chunk.length + 2);
  }
}

export function parseHttpResponse(raw: string): HttpResponse | undefined {
  const headerEnd = raw.indexOf("\r\n\r\n");
  if (headerEnd < 0) return undefined;
  const [statusLine, ...headerLines] = raw.slice(0, headerEnd).split("\r\n");
  const match = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(statusLine ?? "");
  if (!match) return undefined;
  const headers = new Map<string, string>();
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  let body = raw.slice(headerEnd + 4);
  if (headers.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
    const decoded = decodeChunked(body);
    if (decoded === undefined) return undefined;
    body = decoded;
  }
  return { status: Number(match[1]), headers, body };
}
