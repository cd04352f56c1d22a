import { describe, expect, test } from "bun:test";
import { chooseHostAddress, pickHostAddress } from "../../src/host/address.ts";
import { isUnadvertisable } from "../../src/config/net.ts";

const ipv4 = (iface: string, address: string, internal = false, cidr?: string) => ({ iface, address, internal, family: "IPv4", cidr });

describe("pickHostAddress", () => {
  test.each([
    [[ipv4("lo", "127.0.0.1", true), ipv4("eth0", "192.0.2.2")], "192.0.2.2"],
    [[ipv4("docker0", "172.17.0.1"), ipv4("br-1a2b", "172.28.0.1"), ipv4("enp3s0", "10.0.0.7")], "10.0.0.7"],
    [[ipv4("lo", "127.0.0.1", true), { iface: "eth0", address: "fe80::1", internal: false, family: "IPv6" }], undefined],
    [[ipv4("eth0", "169.254.3.4"), ipv4("eth1", "10.1.2.3")], "10.1.2.3"],
  ])("%j → %p", (addresses, expected) => {
    expect(pickHostAddress(addresses)).toBe(expected);
  });
});

test.each([
  ["0.0.0.0", true],
  ["0.1.2.3", true],
  ["127.0.1.1", true],
  ["169.254.10.1", true],
  ["::", true],
  ["::1", true],
  ["fe80::1", true],
  ["10.0.0.5", false],
  ["192.168.1.2", false],
  ["169.255.0.1", false],
])("isUnadvertisable(%p) is %p", (address, expected) => {
  expect(isUnadvertisable(address)).toBe(expected);
});

describe("chooseHostAddress", () => {
  const lan = [
    ipv4("lo", "127.0.0.1", true, "127.0.0.1/8"),
    ipv4("docker0", "172.17.0.1", false, "172.17.0.1/16"),
    ipv4("enp3s0", "10.0.0.7", false, "10.0.0.7/24"),
  ];
  const twoLegs = [...lan, ipv4("wlan0", "192.168.5.9", false, "192.168.5.9/24")];
  const rows: [string, string | undefined, typeof lan, string | undefined, string][] = [
    ["a routed source wins", "10.9.9.9", twoLegs, undefined, "10.9.9.9 the source address of the route to 192.0.2.1 (the default route)"],
    [
      "0.0.0.0 from Bun without a route: the only LAN interface",
      "0.0.0.0",
      lan,
      undefined,
      "10.0.0.7 no default route; enp3s0 is the only non-loopback interface",
    ],
    [
      "no route to the coordinator: the interface on its subnet",
      undefined,
      twoLegs,
      "192.168.5.1",
      "192.168.5.9 no route to 192.168.5.1; wlan0 (192.168.5.9/24) is on the coordinator's subnet",
    ],
    ["a loopback source is never taken", "127.0.0.1", lan, "10.0.0.1", "10.0.0.7 no route to 10.0.0.1; enp3s0 (10.0.0.7/24) is on the coordinator's subnet"],
    [
      "two legs, no route, coordinator elsewhere: refuse",
      "0.0.0.0",
      twoLegs,
      "10.50.0.1",
      "problem: no route to 10.50.0.1 and 2 interfaces (enp3s0 10.0.0.7, wlan0 192.168.5.9) could be the LAN: set host.address in config.yaml to the address the other workstations reach this one by",
    ],
    [
      "nothing but loopback and link-local: refuse",
      "0.0.0.0",
      [ipv4("lo", "127.0.0.1", true), ipv4("eth0", "169.254.1.1")],
      undefined,
      "problem: no default route and no non-loopback IPv4 interface: connect this host to the LAN, or set host.address in config.yaml to the address the other workstations reach this one by",
    ],
  ];
  test.each(rows)("%s", (_name, source, addresses, coordinator, expected) => {
    const choice = chooseHostAddress(source, addresses, coordinator);
    expect("problem" in choice ? `problem: ${choice.problem}` : `${choice.address} ${choice.why}`).toBe(expected);
  });

  test("a coordinator this host cannot route to by name (health, with the election off): the default route's source", () => {
    const choice = chooseHostAddress(undefined, twoLegs, "health", undefined, "10.0.0.7");
    expect(choice).toEqual({ address: "10.0.0.7", why: "no route to health; the source address of the default route", fallback: true });
  });

  test.each(rows)("%s (no default route either)", (_name, source, addresses, coordinator, expected) => {
    const choice = chooseHostAddress(source, addresses, coordinator, undefined, "0.0.0.0");
    expect("problem" in choice ? `problem: ${choice.problem}` : `${choice.address} ${choice.why}`).toBe(expected);
  });
});
