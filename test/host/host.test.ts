import { describe, expect, test } from "bun:test";
import { pickHostAddress } from "../../src/host/address.ts";

describe("pickHostAddress", () => {
  const ipv4 = (iface: string, address: string, internal = false) => ({ iface, address, internal, family: "IPv4" });
  test.each([
    [[ipv4("lo", "127.0.0.1", true), ipv4("eth0", "192.0.2.2")], "192.0.2.2"],
    [[ipv4("docker0", "172.17.0.1"), ipv4("br-1a2b", "172.28.0.1"), ipv4("enp3s0", "10.0.0.7")], "10.0.0.7"],
    [[ipv4("lo", "127.0.0.1", true), { iface: "eth0", address: "fe80::1", internal: false, family: "IPv6" }], undefined],
  ])("%j → %p", (addresses, expected) => {
    expect(pickHostAddress(addresses)).toBe(expected);
  });
});
