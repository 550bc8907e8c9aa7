import { describe, expect, it } from "vitest";
import { toIpPermissions } from "../../../providers/aws/apply.ts";
import { NodeDirectory } from "../../../providers/aws/node-directory.ts";
import { newNode } from "./fixtures.ts";

describe("toIpPermissions", () => {
  it("groups CIDRs by protocol and port, IPv4 and IPv6 apart", () => {
    expect(
      toIpPermissions([
        { protocol: "tcp", fromPort: 80, toPort: 80, cidr: "10.0.0.0/8" },
        { protocol: "tcp", fromPort: 80, toPort: 80, cidr: "2001:db8::/32" },
        { protocol: "tcp", fromPort: 80, toPort: 80, cidr: "192.0.2.0/24" },
        { protocol: "udp", fromPort: 80, toPort: 80, cidr: "10.0.0.0/8" },
      ]),
    ).toEqual([
      {
        IpProtocol: "tcp",
        FromPort: 80,
        ToPort: 80,
        IpRanges: [{ CidrIp: "10.0.0.0/8" }, { CidrIp: "192.0.2.0/24" }],
        Ipv6Ranges: [{ CidrIpv6: "2001:db8::/32" }],
      },
      { IpProtocol: "udp", FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: "10.0.0.0/8" }], Ipv6Ranges: [] },
    ]);
  });
});

describe("NodeDirectory", () => {
  it("maps instance ids and InternalIPs back to node names", () => {
    const directory = new NodeDirectory();
    directory.learn([newNode(0), newNode(1)]);
    const nodeOf = directory.resolver();
    expect(nodeOf("i-00000000000000001")).toBe("node-1");
    expect(nodeOf("192.168.1.2")).toBe("node-0");
    expect(nodeOf("i-unknown")).toBeUndefined();
  });

  it("prefers the nodes given for one lookup over what it learned before", () => {
    const directory = new NodeDirectory();
    directory.learn([newNode(0)]);
    const renamed = directory.resolver([newNode(0, { name: "node-zero" })]);
    expect(renamed("i-00000000000000000")).toBe("node-zero");
    // A lookup does not teach: only learn() does (the provider calls it with every node list it gets).
    expect(directory.resolver()("i-00000000000000000")).toBe("node-0");
  });

  it("forgets the oldest entries beyond its capacity", () => {
    const directory = new NodeDirectory(2);
    directory.learn([newNode(0, { addresses: [] }), newNode(1, { addresses: [] }), newNode(2, { addresses: [] })]);
    const nodeOf = directory.resolver();
    expect(nodeOf("i-00000000000000000")).toBeUndefined();
    expect(nodeOf("i-00000000000000002")).toBe("node-2");
  });
});
