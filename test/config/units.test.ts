import { describe, expect, test } from "bun:test";
import { cidrsOverlap, isIpv4Cidr, parseIpv4Cidr } from "../../src/config/net.ts";
import { closestMatch } from "../../src/config/suggest.ts";
import { parseDurationMs, parseMemorySize } from "../../src/config/units.ts";

describe("parseMemorySize", () => {
  test.each([
    ["512m", 512 * 1024 ** 2],
    ["8g", 8 * 1024 ** 3],
    ["16G", 16 * 1024 ** 3],
    ["1.5g", 1.5 * 1024 ** 3],
    ["64mb", 64 * 1024 ** 2],
    ["1024", 1024],
    [2048, 2048],
    ["lots", undefined],
    ["8 gigs", undefined],
    ["0", undefined],
    ["-1g", undefined],
    [0, undefined],
    [1.5, undefined],
  ] as const)("%p → %p", (input, bytes) => {
    expect(parseMemorySize(input)).toBe(bytes);
  });
});

describe("IPv4 CIDR", () => {
  test.each([
    ["172.28.0.0/16", true],
    ["10.0.0.0/8", true],
    ["0.0.0.0/0", true],
    ["172.28.0.0/33", false],
    ["256.1.1.1/8", false],
    ["1.2.3/8", false],
    ["01.2.3.4/8", false],
    ["1.2.3.4", false],
    ["my-lan", false],
  ] as const)("%s valid: %p", (cidr, valid) => {
    expect(isIpv4Cidr(cidr)).toBe(valid);
  });

  test.each([
    ["172.28.0.0/16", "172.30.0.0/24", false],
    ["172.30.0.0/16", "172.30.5.0/24", true],
    ["10.0.0.0/8", "10.255.255.0/24", true],
    ["192.168.1.0/24", "192.168.2.0/24", false],
    ["192.168.1.7/24", "192.168.1.200/32", true],
  ] as const)("%s overlaps %s: %p", (a, b, overlap) => {
    expect(cidrsOverlap(parseIpv4Cidr(a)!, parseIpv4Cidr(b)!)).toBe(overlap);
  });
});

describe("closestMatch (did you mean)", () => {
  const keys = ["enabled", "image", "cpus", "memory", "shm_size", "head_port", "dashboard_port", "client_port"];
  test.each([
    ["dashbord_port", "dashboard_port"],
    ["shmsize", "shm_size"],
    ["imag", "image"],
    ["Memory", "memory"],
    ["flavour", undefined],
    ["x", undefined],
  ] as const)("%s → %p", (input, expected) => {
    expect(closestMatch(input, keys)).toBe(expected);
  });
});

describe("normalise warnings", () => {
  test("an https election URL is accepted without a warning (the node agent speaks TLS); the example warns about nothing", async () => {
    const { modelFromTexts, embeddedExamples } = await import("../../src/config/load.ts");
    const nodes = embeddedExamples.nodes.replace("url: http://health:8080", "url: https://health:8443");
    expect((await modelFromTexts({ file: "c", text: embeddedExamples.config }, { file: "n", text: nodes }, () => false, "ws1")).warnings).toEqual([]);
    expect(
      (await modelFromTexts({ file: "c", text: embeddedExamples.config }, { file: "n", text: embeddedExamples.nodes }, () => false, "ws1")).warnings,
    ).toEqual([]);
  });
});

describe("parseDurationMs", () => {
  const rows: [string, number | undefined][] = [
    ["10s", 10_000],
    ["500ms", 500],
    ["10", 10_000],
    ["1.5", 1500],
    ["2m", 120_000],
    [" 3s ", 3000],
    ["0", undefined],
    ["-1s", undefined],
    ["10h", 36_000_000],
    ["1e21", undefined],
    ["99999999999999999999", undefined],
    ["soon", undefined],
    ["", undefined],
  ];
  for (const [text, expected] of rows) test(JSON.stringify(text), () => expect(parseDurationMs(text)).toBe(expected));
});
