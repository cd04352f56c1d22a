/**
 * The pinned client (src/election/tls.ts) against a TLS server that records every byte it
 * receives: with the wrong certificate not one request byte arrives, so no Authorization
 * header either. The certificate is the one cslr makes (src/election/x509.ts).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { createServer, type Server } from "node:tls";
import { nodeKey } from "../../src/election/auth.ts";
import { startElectionServer, type ElectionServer } from "../../src/election/server.ts";
import { pinnedFetch, pinOfPem } from "../../src/election/tls.ts";
import { NodeClient } from "../../src/node/client.ts";
import { createSelfSignedCertificate } from "../../src/election/x509.ts";

const coordinator = createSelfSignedCertificate("cslr election service");
const impostor = createSelfSignedCertificate("cslr election service");
const pin = pinOfPem(coordinator.cert)!;

interface Recorder {
  url: string;
  received: () => string;
  /** TCP connections accepted: the client did come. */
  handshakes: () => number;
  server: Server;
}

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function recordingServer(identity: { cert: string; key: string }): Promise<Recorder> {
  const chunks: Buffer[] = [];
  let handshakes = 0;
  const server = createServer(identity, (socket) => {
    socket.on("data", (data: Buffer) => {
      chunks.push(data);
      socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{"ok":true}');
    });
    socket.on("error", () => {});
  });
  server.on("connection", () => void handshakes++);
  server.on("tlsClientError", () => {});
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `https://127.0.0.1:${port}`, received: () => Buffer.concat(chunks).toString(), handshakes: () => handshakes, server };
}

const secretCall = (f: ReturnType<typeof pinnedFetch>, url: string) => f(`${url}/v1/join-info`, { headers: { authorization: "Bearer the-cluster-secret" } });

describe("a client pinned to the coordinator's certificate", () => {
  test("the certificate cslr makes: self-signed ECDSA P-256, its own CA, valid for years", () => {
    const cert = new X509Certificate(coordinator.cert);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.ca).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now() + 10 * 365 * 86_400_000);
    expect(pin).toMatch(/^[0-9a-f]{64}$/);
    expect(pinOfPem(impostor.cert)).not.toBe(pin);
  });

  test("the right certificate: the request and its Authorization header arrive", async () => {
    const server = await recordingServer(coordinator);
    const res = await secretCall(pinnedFetch(pin), server.url);
    expect(await res.json()).toEqual({ ok: true });
    expect(server.received()).toContain("Authorization: Bearer the-cluster-secret");
  });

  test("another certificate: refused before one request byte is sent", async () => {
    const server = await recordingServer(impostor);
    expect(secretCall(pinnedFetch(pin), server.url)).rejects.toThrow(/not the cluster's/);
    await Bun.sleep(200);
    expect(server.handshakes()).toBeGreaterThan(0);
    expect(server.received()).toBe("");
  });

  test("another certificate, with the coordinator's certificate given as the CA: refused, nothing sent", async () => {
    const server = await recordingServer(impostor);
    expect(secretCall(pinnedFetch(pin, coordinator.cert), server.url)).rejects.toThrow();
    await Bun.sleep(200);
    expect(server.received()).toBe("");
  });

  test("a pinned client never speaks plain HTTP", async () => {
    expect(pinnedFetch(pin)("http://127.0.0.1:1/v1/join-info")).rejects.toThrow(/HTTPS only/);
  });
});

describe("the election service over HTTPS, and a node agent's client pinned to it", () => {
  let service: ElectionServer | undefined;
  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });
  const start = () => {
    service = startElectionServer({ host: "127.0.0.1", port: 0, whitelist: ["a"], leaseTtlMs: 5000, token: "t".repeat(32), tls: coordinator });
    return service;
  };

  test("the service speaks HTTPS only; the pinned node client claims the head with its key", async () => {
    const { url, port } = start();
    expect(url).toBe(`https://127.0.0.1:${port}`);
    expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    const client = new NodeClient({ url, node: "a", key: nodeKey("t".repeat(32), "a"), fetch: pinnedFetch(pin) });
    expect(await client.claim("a:6379")).toMatchObject({ kind: "ok", value: { role: "head", term: 1 } });
  });

  test("a node client pinned to another certificate never reaches it: no claim, no head", async () => {
    const { url } = start();
    const client = new NodeClient({ url, node: "a", key: nodeKey("t".repeat(32), "a"), fetch: pinnedFetch(pinOfPem(impostor.cert)!) });
    expect(await client.claim("a:6379")).toMatchObject({ kind: "unreachable", reason: expect.stringContaining("not the cluster's") });
    const roster = (await (await pinnedFetch(pin)(`${url}/v1/cluster`)).json()) as { head: unknown };
    expect(roster.head).toBeNull();
  });
});
