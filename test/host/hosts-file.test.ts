/**
 * This host's name resolvable in its host-network Ray containers (src/host/hosts-file.ts): with
 * the name missing from /etc/hosts and no reachable DNS, Ray 2.60's dashboard agent spent 10 s
 * on socket.getfqdn at start and the raylet killed the head (e2e: laptop-readme-real).
 */
import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import { hostNetworkExtraHosts, parseHostsFile } from "../../src/host/hosts-file.ts";
import { embeddedTemplateSet, renderBuild } from "../../src/render/render.ts";
import { modelFixture, renderTls } from "../helpers/model.ts";

const fedoraLike = "127.0.0.1   localhost localhost.localdomain\n::1 localhost6\n10.0.0.9 nas.lab nas # the lab's NAS\n";

describe("parseHostsFile", () => {
  test("IPv4 entries with valid names; comments, IPv6 and junk left out", () => {
    expect(parseHostsFile(`${fedoraLike}# 10.0.0.1 commented\n10.0.0.300 bad\n10.0.0.7 ok bad_name -dash\n\n`)).toEqual([
      { address: "127.0.0.1", names: ["localhost", "localhost.localdomain"] },
      { address: "10.0.0.9", names: ["nas.lab", "nas"] },
      { address: "10.0.0.7", names: ["ok"] },
    ]);
  });
});

describe("hostNetworkExtraHosts", () => {
  test("the host's file names the machine (Debian's 127.0.1.1 line): nothing to add, Docker's copy resolves it", () => {
    expect(hostNetworkExtraHosts("127.0.0.1 localhost\n127.0.1.1 WS1.lab ws1\n", "ws1", "10.0.0.5")).toEqual([]);
  });

  test("it does not: the machine's name at this host's address, and the file's other entries carried over", () => {
    expect(hostNetworkExtraHosts(fedoraLike, "ws1", "10.0.0.5")).toEqual([
      "localhost.localdomain:127.0.0.1",
      "nas.lab:10.0.0.9",
      "nas:10.0.0.9",
      "ws1:10.0.0.5",
    ]);
    expect(hostNetworkExtraHosts("", "ws1.lab.example", "10.0.0.5")).toEqual(["ws1.lab.example:10.0.0.5"]);
  });

  test("a hostname or address that is not one (data from the system, never spliced as is): nothing", () => {
    expect(hostNetworkExtraHosts("", "ws1\n- evil", "10.0.0.5")).toEqual([]);
    expect(hostNetworkExtraHosts("", "ws1", "auto")).toEqual([]);
  });
});

test("rendered: the host-network Ray services carry them as extra_hosts; bridge networking never", () => {
  const compose = (mode: "host" | "bridge") =>
    parse(
      renderBuild({
        model: modelFixture({ network: { mode }, services: { ray: { workers: 1 } } }),
        cslrBinary: "/usr/local/bin/cslr",
        projectDir: "/p",
        outDir: "/p/_build",
        hostAddress: "10.0.0.5",
        hostNetworkExtraHosts: ["nas:10.0.0.9", "ws1:10.0.0.5"],
        version: "test",
        templates: embeddedTemplateSet(),
        tls: renderTls,
      }).find((f) => f.name === "compose.yaml")!.content,
    );
  const host = compose("host");
  expect([host.services["ray-cpu"].extra_hosts, host.services["ray-worker-1"].extra_hosts]).toEqual([
    ["nas:10.0.0.9", "ws1:10.0.0.5"],
    ["nas:10.0.0.9", "ws1:10.0.0.5"],
  ]);
  expect(host.services.health.extra_hosts).toBeUndefined();
  expect(compose("bridge").services["ray-cpu"].extra_hosts).toBeUndefined();
});
