import { describe, expect, it } from "vitest";
import {
  canonicalCidr,
  cidrContains,
  isOpenToAll,
  parseCidr,
  parseIpAddress,
} from "../../../../providers/rules/cidr.ts";

describe("canonicalCidr", () => {
  it.each([
    ["10.0.0.0/8", "10.0.0.0/8"],
    [" 10.0.0.0/8 ", "10.0.0.0/8"],
    ["10.1.2.3/8", "10.0.0.0/8"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["192.168.1.7/32", "192.168.1.7/32"],
    ["203.0.113.77/25", "203.0.113.0/25"],
    ["2001:db8::/32", "2001:db8::/32"],
    ["2001:DB8:0:0:1::1/64", "2001:db8::/64"],
    ["2001:db8:1:2:3::/48", "2001:db8:1::/48"],
    ["::/0", "::/0"],
    ["::1/128", "::1/128"],
    ["fe80::1:2/10", "fe80::/10"],
    ["::ffff:192.168.1.1/128", "::ffff:c0a8:101/128"],
    ["2001:db8:0:1:0:0:0:1/128", "2001:db8:0:1::1/128"],
  ])("%j -> %j", (input, expected) => {
    expect(canonicalCidr(input)).toBe(expected);
  });

  it.each([
    "10.0.0.0",
    "10.0.0.0/33",
    "10.0.0/8",
    "010.0.0.0/8",
    "10.0.0.256/8",
    "10.0.0.0/08",
    "10.0.0.0/-1",
    "10.0.0.0/ 8",
    "not-a-cidr",
    "",
    "2001:db8::/129",
    "2001:db8:::/32",
    "1:2:3:4:5:6:7:8:9/64",
    "2001:db8::g/64",
    "fe80::1%eth0/64",
    "0x0a.0.0.0/8",
    "10.1/16",
  ])("rejects %j", (input) => {
    expect(canonicalCidr(input)).toBeUndefined();
  });

  it("parses into family, network and prefix", () => {
    expect(parseCidr("10.1.2.3/8")).toEqual({ family: "ipv4", network: "10.0.0.0", prefix: 8 });
    expect(parseCidr("2001:DB8::1/32")).toEqual({ family: "ipv6", network: "2001:db8::", prefix: 32 });
  });
});

describe("parseIpAddress", () => {
  it.each(["10.0.0.1", "::1", "2001:db8::1"])("reads %j", (text) => {
    expect(parseIpAddress(text)).toBeDefined();
  });
  it.each(["010.0.0.1", "10.1", "0x0a.0.0.1", "10.0.0.256", "fe80::1%eth0", " 10.0.0.1", "10.0.0.0/8", ""])(
    "refuses %j",
    (text) => {
      expect(parseIpAddress(text)).toBeUndefined();
    },
  );
});

describe("cidrContains", () => {
  it.each([
    ["10.0.0.0/8", "10.255.1.2", true],
    ["10.0.0.0/8", "11.0.0.1", false],
    ["192.168.1.0/24", "192.168.1.255", true],
    ["192.168.1.7/32", "192.168.1.7", true],
    ["2001:db8::/32", "2001:db8:1::5", true],
    ["2001:db8::/32", "2001:db9::5", false],
    ["10.0.0.0/8", "::ffff:10.0.0.1", false],
    ["10.0.0.0/8", "not-an-ip", false],
    ["nonsense", "10.0.0.1", false],
  ])("%s contains %s: %j", (cidr, address, expected) => {
    expect(cidrContains(cidr, address)).toBe(expected);
  });
});

describe("isOpenToAll", () => {
  it.each([
    [[], true],
    [["0.0.0.0/0"], true],
    [["0.0.0.0/0", "::/0"], true],
    [["0.0.0.0/0", "10.0.0.0/8"], false],
    [["10.0.0.0/8"], false],
  ])("%j: %j", (ranges, expected) => {
    expect(isOpenToAll(ranges)).toBe(expected);
  });
});
