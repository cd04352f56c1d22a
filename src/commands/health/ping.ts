import { defineCommand } from "citty";
import { ping } from "../../election/client.ts";
import { CslrError, UsageError } from "../../errors.ts";
import { parseDurationMs } from "../../config/units.ts";

export default defineCommand({
  meta: { name: "ping", description: "Exit 0 when the election service answers /healthz (the compose healthcheck)" },
  args: {
    url: { type: "string", description: "Service URL", default: "http://127.0.0.1:8080", valueHint: "URL" },
    timeout: { type: "string", description: "Seconds to wait for an answer (or 500ms, 2s)", default: "2", valueHint: "SECONDS" },
  },
  async run({ args }) {
    const timeoutMs = parseDurationMs(args.timeout);
    if (timeoutMs === undefined) throw new UsageError(`--timeout ${JSON.stringify(args.timeout)}: expected seconds like 2, 2s or 500ms`);
    if (!URL.canParse(args.url)) throw new UsageError(`--url ${JSON.stringify(args.url)}: expected an http URL like http://127.0.0.1:8080`);
    if (!(await ping(args.url, timeoutMs / 1000))) throw new CslrError(`cslr: ${args.url}/healthz did not answer within ${timeoutMs} ms`);
  },
});
