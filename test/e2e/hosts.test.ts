/**
 * The e2e workstation harness (test/e2e/lib/hosts.ts) on real engines: three namespaced
 * workstations, each with its own dockerd. What cslr's multi-host mode needs from them:
 * host-networked containers reachable at their host's address, a compose project's
 * user-defined network publishing a port at the coordinator's address, compose run "on" a
 * host, and a teardown that leaves nothing. Also shows what the doc's --iptables=false
 * recipe cannot do, and that cleanupStale() reaps the engines of a killed test process.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { cleanupStale, describeNetns, leftoversOf, log, processesOf } from "../helpers/netns.ts";
import { describeE2E, testImages } from "./lib/engine.ts";
import { type Workstation, type Workstations, createWorkstations } from "./lib/hosts.ts";

/** A TCP server in perl (the base image has perl-base, no nc or python): greets with its hostname and the client's address. */
const greeterScript = [
  "use IO::Socket::INET;",
  'my $s = IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => $ARGV[0], Listen => 16, ReuseAddr => 1) or die "listen: $!\\n";',
  "chomp(my $h = `hostname`);",
  'while (my $c = $s->accept) { print $c "hello from $h to " . $c->peerhost . "\\n"; close $c }',
].join(" ");
const greeter = (port: number) => ["perl", "-e", greeterScript, String(port)];

/** A compose project with one greeter on the project's own (user-defined bridge) network, port published. */
function composeFile(dir: string, publish: number): string {
  const file = join(dir, "compose.yaml");
  // `$` is compose interpolation: $$ is a literal dollar.
  const command = greeter(7000).map((arg) => arg.replaceAll("$", "$$$$"));
  writeFileSync(file, stringify({ services: { greeter: { image: testImages.base, command, ports: [`${publish}:7000`] } } }));
  return file;
}

/** Reads from address:port on `from` until the greeting comes (bounded). */
async function greeting(from: Workstation, address: string, port: number, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const read = await from.host.tcpRead(address, port, 2_000);
    if (read.ok && read.text.startsWith("hello")) return read.text.trim();
    if (Date.now() > deadline) throw new Error(`no greeting from ${address}:${port} on ${from.name} within ${timeoutMs} ms: ${read.error || read.text}`);
    await Bun.sleep(200);
  }
}

function expectOk(result: { code: number; stdout: string; stderr: string }, what: string): string {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result.stdout;
}

describeE2E("workstations: namespaced hosts with their own dockerd", () => {
  describeNetns("three workstations (dockerd with iptables in its namespace)", () => {
    let group: Workstations;
    let a: Workstation, b: Workstation, c: Workstation;
    const dir = mkdtempSync(join(tmpdir(), "cslrt-compose-"));
    const project = `cslrt-e2e-${Math.random().toString(36).slice(2, 8)}`;

    beforeAll(async () => {
      await cleanupStale();
      group = await createWorkstations({ count: 3, images: [testImages.base] });
      [a, b, c] = group.hosts as [Workstation, Workstation, Workstation];
    }, 300_000);

    afterAll(async () => {
      await group?.destroy();
      rmSync(dir, { recursive: true, force: true });
    }, 120_000);

    test("each workstation has its own engine: its hostname, no containers, the loaded image", async () => {
      for (const w of group.hosts) {
        const info = expectOk(await w.docker(["info", "--format", "{{.Name}} {{.Containers}} {{.DockerRootDir}}"]), "docker info");
        expect(info.trim()).toBe(`${w.hostname} 0 ${w.dataRoot}`);
        expectOk(await w.docker(["image", "inspect", "--format", "{{.Id}}", testImages.base]), `image on ${w.name}`);
      }
    });

    test("on B, a --network host container serves TCP at B's address; C reaches it", async () => {
      expectOk(await b.docker(["run", "-d", "--name", "greeter-host", "--network", "host", testImages.base, ...greeter(7100)]), "docker run on B");
      expect(await greeting(c, b.address, 7100)).toBe(`hello from ${b.hostname} to ${c.address}`);
    }, 60_000);

    test("on A, compose (run on A) publishes a port of its user-defined network at A's address: C reaches it and is seen as itself; the container reaches B", async () => {
      const file = composeFile(dir, 7201);
      const compose = (args: string[]) => a.exec(["docker", "compose", "-p", project, "-f", file, ...args], {}, { cwd: dir, timeoutMs: 120_000 });
      try {
        expectOk(await compose(["up", "-d", "--wait"]), "docker compose up on A");
        const networks = expectOk(await a.docker(["network", "ls", "--filter", `name=${project}_default`, "--format", "{{.Name}} {{.Driver}}"]), "network ls");
        expect(networks.trim()).toBe(`${project}_default bridge`);
        // DNAT inside A's namespace: the service sees C's own address (no userland proxy in between).
        expect(await greeting(c, a.address, 7201)).toMatch(new RegExp(`^hello from [0-9a-f]{12} to ${c.address.replaceAll(".", "\\.")}$`));
        // Outbound from the bridge network to the LAN, masqueraded as A.
        const out = expectOk(
          await compose(["exec", "-T", "greeter", "bash", "-c", 'exec 3<>"/dev/tcp/$0/$1" && cat <&3', b.address, "7100"]),
          "container on A → B",
        );
        expect(out.trim()).toBe(`hello from ${b.hostname} to ${a.address}`);
        const nat = expectOk(await a.exec(["iptables", "-t", "nat", "-S", "DOCKER"]), "iptables in A");
        expect(nat).toContain("--dport 7201 -j DNAT");
      } finally {
        await compose(["down", "-v", "--remove-orphans", "--timeout", "1"]);
      }
    });

    test("destroy() leaves no dockerd, container process, mount, namespace or folder behind", async () => {
      const inodes = new Set(group.hosts.map((w) => statSync(`/run/netns/${w.host.netns}`).ino));
      expect(processesOf(inodes).length).toBeGreaterThan(0);
      await group.destroy();
      expect(processesOf(inodes)).toEqual([]);
      expect(leftoversOf(group.id)).toEqual([]);
    }, 120_000);
  });

  describeNetns("the doc's recipe (--iptables=false --bridge=none)", () => {
    let group: Workstations;
    let x: Workstation, y: Workstation;
    const dir = mkdtempSync(join(tmpdir(), "cslrt-compose-"));
    const project = `cslrt-e2e-${Math.random().toString(36).slice(2, 8)}`;

    beforeAll(async () => {
      group = await createWorkstations({ count: 2, images: () => [testImages.base], iptables: false, defaultBridge: false });
      [x, y] = group.hosts as [Workstation, Workstation];
    }, 300_000);

    afterAll(async () => {
      await group?.destroy();
      rmSync(dir, { recursive: true, force: true });
    }, 120_000);

    test("host networking works; a published port answers only through docker-proxy (the service sees the gateway, not the client); containers on a bridge network cannot reach the LAN", async () => {
      expectOk(await y.docker(["run", "-d", "--network", "host", testImages.base, ...greeter(7100)]), "docker run on Y");
      expect(await greeting(x, y.address, 7100)).toBe(`hello from ${y.hostname} to ${x.address}`);

      const file = composeFile(dir, 7202);
      const compose = (args: string[]) => x.exec(["docker", "compose", "-p", project, "-f", file, ...args], {}, { cwd: dir, timeoutMs: 120_000 });
      try {
        expectOk(await compose(["up", "-d", "--wait"]), "docker compose up on X");
        const seen = await greeting(y, x.address, 7202);
        expect(seen).not.toContain(y.address);
        expect(seen).toMatch(/ to 172\.\d+\.0\.1$/);
        const out = await compose(["exec", "-T", "greeter", "timeout", "3", "bash", "-c", 'exec 3<>"/dev/tcp/$0/$1" && cat <&3', y.address, "7100"]);
        expect(out.code).not.toBe(0);
        log(
          `--iptables=false: Y reaches X's published port but the service sees "${seen.replace(/.* to /, "")}"; X's bridge container → Y: exit ${out.code} (no NAT)`,
        );
      } finally {
        await compose(["down", "-v", "--remove-orphans", "--timeout", "1"]);
      }
    }, 120_000);
  });

  describeNetns("cleanupStale() after a killed test process", () => {
    test("reaps the dead process's dockerd, containerd, containers, mounts and namespaces", async () => {
      const script = `
        const { createWorkstations } = await import(${JSON.stringify(join(import.meta.dir, "lib/hosts.ts"))});
        const ws = await createWorkstations({ count: 1, images: [${JSON.stringify(testImages.base)}], log: () => {} });
        const w = ws.hosts[0];
        const ids = [];
        for (const network of ["host", "bridge"]) {
          const run = await w.docker(["run", "-d", "--network", network, ${JSON.stringify(testImages.base)}, "sleep", "600"]);
          ids.push(run.stdout.trim());
        }
        const ino = require("node:fs").statSync("/run/netns/" + w.host.netns).ino;
        console.log(JSON.stringify({ id: ws.id, ino, ids }));
        await Bun.sleep(600_000);`;
      const child = Bun.spawn(["bun", "-e", script], { stdout: "pipe", stderr: "pipe" });
      const reader = child.stdout.getReader();
      const first = await Promise.race([reader.read(), Bun.sleep(120_000).then(() => undefined)]);
      child.kill("SIGKILL");
      await child.exited;
      if (!first || first.done) throw new Error(`child did not report: ${await new Response(child.stderr).text()}`);
      const { id, ino, ids } = JSON.parse(new TextDecoder().decode(first.value)) as { id: string; ino: number; ids: string[] };
      expect(ids.every((c) => /^[0-9a-f]{64}$/.test(c))).toBe(true);
      const engine = processesOf(new Set([ino]), new Set(ids));
      expect(engine.length).toBeGreaterThan(3); // dockerd, containerd, shims, both sleeps

      const start = performance.now();
      const report = await cleanupStale();
      log(`cleanupStale after SIGKILL: ${Math.round(performance.now() - start)} ms`);
      // A test run going on at the same time may have reaped it first: either way it must be gone.
      expect(report.failed.filter((f) => f.startsWith(id))).toEqual([]);
      if (!report.reaped.includes(id)) log(`run ${id} was reaped by another cleanupStale`);
      expect(processesOf(new Set([ino]), new Set(ids))).toEqual([]);
      expect(leftoversOf(id)).toEqual([]);
    }, 180_000);
  });
});
