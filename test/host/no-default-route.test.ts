/**
 * A lab LAN without a gateway (common offline): a workstation with no default route. Today's
 * Bun answers a UDP connect towards an unrouted address with local address 0.0.0.0; cslr must
 * never advertise that. Real network namespaces (test/helpers/netns.ts), the real CLI.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compiledCslr } from "../helpers/binary.ts";
import { runCli } from "../helpers/cli.ts";
import { type Lan, type NetnsHost, cleanupStale, createLan, describeNetns, tool } from "../helpers/netns.ts";

function must(argv: string[]): void {
  const result = tool(argv);
  if (result.code !== 0) throw new Error(`${argv.join(" ")}: ${result.stderr.trim()}`);
}

/** A coordinator's project (host networking) in a temp folder, with secrets from `cslr init`. */
async function coordinatorProject(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "cslr-nogw-"));
  const init = await runCli(["init"], { cwd: dir });
  if (init.exitCode !== 0) throw new Error(`cslr init: ${init.stderr}`);
  writeFileSync(
    join(dir, "config.yaml"),
    `network:\n  mode: host\nservices:\n  health:\n    binary: ${process.execPath}\n  ray:\n    gpu:\n      enabled: false\n`,
  );
  return dir;
}

describeNetns("host.address auto without a default route", () => {
  let lan: Lan;
  let lone: NetnsHost, twoLegs: NetnsHost;
  const dirs: string[] = [];

  beforeAll(async () => {
    await cleanupStale();
    lan = await createLan({ hosts: 2 });
    [lone, twoLegs] = lan.hosts as [NetnsHost, NetnsHost];
    for (const host of lan.hosts) must(["ip", "-n", host.netns, "route", "del", "default"]);
    // A second LAN leg (a veth pair inside the namespace, both ends up): two candidate interfaces.
    must(["ip", "-n", twoLegs.netns, "link", "add", "lab0", "type", "veth", "peer", "name", "lab1"]);
    must(["ip", "-n", twoLegs.netns, "addr", "add", "10.250.1.1/24", "dev", "lab0"]);
    must(["ip", "-n", twoLegs.netns, "addr", "add", "10.250.2.1/24", "dev", "lab1"]);
    must(["ip", "-n", twoLegs.netns, "link", "set", "lab0", "up"]);
    must(["ip", "-n", twoLegs.netns, "link", "set", "lab1", "up"]);
  }, 120_000);

  afterAll(async () => {
    await lan?.destroy();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  test("the only LAN interface is advertised, and the CLI says which and why", async () => {
    const dir = await coordinatorProject();
    dirs.push(dir);
    const routes = await lone.run(["ip", "route", "show", "default"]);
    expect(routes.stdout.trim()).toBe("");

    const ports = await lone.run([await compiledCslr(), "ports", "--json"], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
    expect(ports.code).toBe(0);
    expect(JSON.parse(ports.stdout).address).toBe(lone.address);
    expect(ports.stderr).toContain(`host.address auto: ${lone.address} (no default route; eth0 is the only non-loopback interface)`);

    const generated = await lone.run([await compiledCslr(), "generate"], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
    expect(generated.code).toBe(0);
    const info = JSON.parse(readFileSync(join(dir, "_build/join-info.json"), "utf8"));
    expect(info.coordinator).toMatchObject({ url: `https://${lone.address}:8888`, address: lone.address });
    expect(readFileSync(join(dir, "_build/compose.yaml"), "utf8")).not.toContain("0.0.0.0:8888");
  }, 120_000);

  test("with two candidate interfaces and no route, generate refuses with a fix line and writes nothing", async () => {
    const dir = await coordinatorProject();
    dirs.push(dir);
    const generated = await twoLegs.run([await compiledCslr(), "generate"], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
    expect(generated.code).toBe(2);
    expect(generated.stderr).toContain("host.address auto: no default route and 3 interfaces (eth0");
    expect(generated.stderr).toContain("set host.address in config.yaml");
    expect(() => readFileSync(join(dir, "_build/join-info.json"))).toThrow();
  }, 120_000);
});
