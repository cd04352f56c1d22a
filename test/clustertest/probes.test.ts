/**
 * The probes are bash command lines; run them here, on this machine, against real sockets
 * (they run the same way inside the test client container).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { parseHttpResponse } from "../../src/clustertest/http.ts";
import { httpGetProbe, rayFlavourProbe, tcpProbe } from "../../src/clustertest/probes.ts";
import { pinOfPem } from "../../src/election/tls.ts";
import { createSelfSignedCertificate } from "../../src/election/x509.ts";

async function run(argv: string[], env?: Record<string, string>) {
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/v1/cluster") return Response.json({ head: null, term: 0, workers: [], path: url.pathname });
    return new Response(`no ${url.pathname}`, { status: 404 });
  },
});

/** A port nothing listens on: bind one, note it, close it. */
function closedPort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

const serverPort = server.port!;
afterAll(() => server.stop(true));

describe("probes on real sockets", () => {
  test("tcpProbe: 0 when something listens, non-zero when nothing does", async () => {
    expect((await run(tcpProbe("127.0.0.1", serverPort))).code).toBe(0);
    expect((await run(tcpProbe("127.0.0.1", closedPort()))).code).not.toBe(0);
  });

  test("tcpProbe: a connection closed at once (Docker's port proxy with nobody behind it) is not a listener", async () => {
    const closer = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(socket) {
          socket.end();
        },
        data() {},
      },
    });
    try {
      const result = await run(tcpProbe("127.0.0.1", closer.port));
      expect(result.code).toBe(3);
      expect(result.stderr).toContain("connection closed at once");
    } finally {
      closer.stop(true);
    }
  });

  test("httpGetProbe prints a response the parser reads", async () => {
    const result = await run(httpGetProbe("127.0.0.1", serverPort, "/v1/cluster"));
    expect(result.code).toBe(0);
    const response = parseHttpResponse(result.stdout)!;
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ head: null, workers: [] });
    expect(parseHttpResponse((await run(httpGetProbe("127.0.0.1", serverPort, "/elsewhere"))).stdout)!.status).toBe(404);
  });

  test("a value with shell characters stays one argument", async () => {
    const result = await run(httpGetProbe("127.0.0.1", serverPort, "/x;$(id)`id`"));
    // Not expanded by the shell: the server sees the characters themselves.
    expect(parseHttpResponse(result.stdout)!.body).toBe("no /x;$(id)%60id%60");
  });

  test("httpGetProbe fails without output when nothing listens", async () => {
    const result = await run(httpGetProbe("127.0.0.1", closedPort(), "/v1/cluster"));
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe("");
  });

  test("rayFlavourProbe tells a stand-in from no Ray at all", async () => {
    const dir = `${process.env.TMPDIR ?? "/tmp"}/cslr-flavour-${process.pid}`;
    await Bun.write(`${dir}/ray`, "#!/bin/sh\necho 'ray 0.0.0 (cslr stand-in, not real Ray)'\n");
    await run(["chmod", "+x", `${dir}/ray`]);
    try {
      expect((await run(rayFlavourProbe(), { PATH: `${dir}:/usr/bin:/bin` })).stdout.trim()).toBe("standin");
      expect((await run(rayFlavourProbe(), { PATH: "/usr/bin:/bin" })).stdout.trim()).toMatch(/^(none|real)$/);
    } finally {
      await run(["rm", "-rf", dir]);
    }
  });
});

describe("httpGetProbe over pinned TLS (the election service's certificate)", () => {
  const ours = createSelfSignedCertificate("cslr election service");
  const other = createSelfSignedCertificate("cslr election service");
  const seen: string[] = [];
  const tlsServer = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    tls: ours,
    fetch(req) {
      seen.push(new URL(req.url).pathname);
      return Response.json({ head: null, term: 0, workers: [] });
    },
  });
  afterAll(() => tlsServer.stop(true));

  test("the right pin: the response, as over plain HTTP", async () => {
    const result = await run(httpGetProbe("127.0.0.1", tlsServer.port!, "/v1/cluster", pinOfPem(ours.cert)));
    expect(result.code).toBe(0);
    expect(parseHttpResponse(result.stdout)!.status).toBe(200);
  });

  test("another pin: refused before the request is sent", async () => {
    seen.length = 0;
    const result = await run(httpGetProbe("127.0.0.1", tlsServer.port!, "/v1/cluster", pinOfPem(other.cert)));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("pin mismatch");
    expect(seen).toEqual([]);
  });
});
