/**
 * `cslr join` talks only to its coordinator: the join token (cslr1.<pin>.<secret>) pins the
 * certificate, and a server with another one (on the path, or answering in its place) gets not
 * one request, so never the token. The token comes from standard input or the environment,
 * not from argv.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { pinOfPem } from "../../src/election/tls.ts";
import { createSelfSignedCertificate } from "../../src/election/x509.ts";
import { compiledCslr } from "../helpers/binary.ts";
import { honestJoinInfo, startFakeCoordinator, type FakeCoordinator } from "./fake-coordinator.ts";

const coordinatorCert = createSelfSignedCertificate("cslr election service");
const impostorCert = createSelfSignedCertificate("cslr election service");
const pin = pinOfPem(coordinatorCert.cert)!;
const secret = "s".repeat(32);

let coordinator: FakeCoordinator | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await coordinator?.stop();
  coordinator = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Runs the compiled cslr's join with `stdin` on its standard input and CSLR_CLUSTER_TOKEN from `env` only. */
async function join_(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "cslr-join-pinned-"));
  dirs.push(dir);
  const env = { ...process.env, NO_COLOR: "1", ...opts.env } as Record<string, string>;
  if (!opts.env?.CSLR_CLUSTER_TOKEN) delete env.CSLR_CLUSTER_TOKEN;
  const proc = Bun.spawn([await compiledCslr(), "join", ...args, "--name", "ws9"], {
    cwd: dir,
    env,
    stdin: new Blob([opts.stdin ?? ""]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stderr, exitCode] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  return { dir, stderr, exitCode };
}

const httpsInfo = (url: string) => ({ ...honestJoinInfo(url), coordinator: { url, address: "127.0.0.1", name: "coord" } });

describe.skipIf(process.platform !== "linux")("cslr join pins the coordinator's certificate", () => {
  test("the right certificate, the token on standard input: a member whose nodes.yaml pins it", async () => {
    coordinator = startFakeCoordinator(httpsInfo, { tls: coordinatorCert });
    const { dir, stderr, exitCode } = await join_([coordinator.url, "--token", "-"], { stdin: `cslr1.${pin}.${secret}\n` });
    expect(stderr).toContain("is a member of lab");
    expect(exitCode).toBe(0);
    expect(parse(readFileSync(join(dir, "nodes.yaml"), "utf8")).health_service).toEqual({ url: coordinator.url, timeout: 10, pin });
    expect(readFileSync(join(dir, ".env"), "utf8")).toContain(`CSLR_CLUSTER_TOKEN=${secret}\n`);
    expect(coordinator.requests.map((r) => r.authorization)).toContain(`Bearer ${secret}`);
  });

  test("the token from CSLR_CLUSTER_TOKEN works the same", async () => {
    coordinator = startFakeCoordinator(httpsInfo, { tls: coordinatorCert });
    const { exitCode, stderr } = await join_([coordinator.url], { env: { CSLR_CLUSTER_TOKEN: `cslr1.${pin}.${secret}` } });
    expect(stderr).toContain("is a member of lab");
    expect(exitCode).toBe(0);
  });

  test("another certificate (a server in the coordinator's place): refused, and it received no request at all", async () => {
    coordinator = startFakeCoordinator(httpsInfo, { tls: impostorCert });
    const { dir, stderr, exitCode } = await join_([coordinator.url, "--token", "-"], { stdin: `cslr1.${pin}.${secret}\n` });
    expect(exitCode).not.toBe(0);
    expect(stderr).toContain("not the cluster's");
    expect(coordinator.requests).toEqual([]);
    expect(existsSync(join(dir, "config.yaml"))).toBe(false);
  });

  test("an https coordinator and a token without a pin: exit 2 before any request", async () => {
    coordinator = startFakeCoordinator(httpsInfo, { tls: coordinatorCert });
    const { stderr, exitCode } = await join_([coordinator.url, "--token", "-"], { stdin: `${secret}\n` });
    expect(exitCode).toBe(2);
    expect(stderr).toContain("carries no certificate pin");
    expect(coordinator.requests).toEqual([]);
  });

  test("a pinned token and a plain-HTTP URL: exit 2, nothing sent", async () => {
    coordinator = startFakeCoordinator(honestJoinInfo);
    const { stderr, exitCode } = await join_([coordinator.url, "--token", "-"], { stdin: `cslr1.${pin}.${secret}\n` });
    expect(exitCode).toBe(2);
    expect(stderr).toContain("expected https://");
    expect(coordinator.requests).toEqual([]);
  });

  test("a token with a line break cannot add a variable to .env: refused, nothing written", async () => {
    coordinator = startFakeCoordinator(httpsInfo, { tls: coordinatorCert });
    const { dir, exitCode } = await join_([coordinator.url], { env: { CSLR_CLUSTER_TOKEN: `cslr1.${pin}.${secret}\nRAY_AUTH_TOKEN=mine` } });
    expect(exitCode).toBe(2);
    expect(coordinator.requests).toEqual([]);
    expect(existsSync(join(dir, ".env"))).toBe(false);
  });

  test("a malformed token is refused without echoing it", async () => {
    const { stderr, exitCode } = await join_(["https://127.0.0.1:1", "--token", "-"], { stdin: `cslr1.${pin}.bad secret with spaces\n` });
    expect(exitCode).toBe(2);
    expect(stderr).not.toContain("bad secret");
  });
});
