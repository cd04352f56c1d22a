import { defineCommand } from "citty";
import { ping } from "../../election/client.ts";
import { CslrError, UsageError } from "../../errors.ts";
import { parseDurationMs } from "../../config/units.ts";
import { parseHttpUrl } from "../../config/net.ts";
import { pinnedFetch, pinPattern } from "../../election/tls.ts";

export default defineCommand({
  meta: { name: "ping", description: "Exit 0 when the election service answers /healthz (the compose healthcheck)" },
  args: {
    url: { type: "string", description: "Service URL", default: "http://127.0.0.1:8080", valueHint: "URL" },
    pin: { type: "string", description: "SHA-256 of the service's certificate (for an https URL)", valueHint: "HEX" },
    timeout: { type: "string", description: "Seconds to wait for an answer (or 500ms, 2s)", default: "2", valueHint: "SECONDS" },
  },
  async run({ args }) {
    const timeoutMs = parseDurationMs(args.timeout);
    if (timeoutMs === undefined) throw new UsageError(`--timeout ${JSON.stringify(args.timeout)}: expected seconds like 2, 2s or 500ms`);
    const url = parseHttpUrl(args.url);
    if (!url) throw new UsageError(`--url ${JSON.stringify(args.url)}: expected an http(s) URL like https://127.0.0.1:8080`);
    if (args.pin !== undefined && !pinPattern.test(args.pin))
      throw new UsageError(`--pin ${JSON.stringify(args.pin)}: expected 64 hex digits (the certificate's SHA-256)`);
    if (url.scheme === "https" && args.pin === undefined) throw new UsageError(`--url ${args.url}: an https URL needs --pin (the certificate's SHA-256)`);
    if (!(await ping(args.url, timeoutMs / 1000, url.scheme === "https" ? pinnedFetch(args.pin!) : fetch)))
      throw new CslrError(`cslr: ${args.url}/healthz did not answer within ${timeoutMs} ms`);
  },
});
