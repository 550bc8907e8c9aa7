import { describe, expect, it } from "vitest";
import { newNode, SEED_NODE_SOURCES, seedNodeSource, seedNodes } from "../../../sandbox/seed-objects.ts";

describe("seed scenario Nodes", () => {
  it("numbers node-N at 192.168.1.(N+1) with nothing a cloud would add", () => {
    const node = newNode(seedNodeSource(4));
    expect(node.metadata?.name).toBe("node-4");
    expect(node.status?.addresses).toEqual([
      { type: "InternalIP", address: "192.168.1.5" },
      { type: "Hostname", address: "node-4" },
    ]);
    expect(node.spec).toEqual({});
    expect(Object.keys(node.metadata?.labels ?? {})).not.toContain("topology.kubernetes.io/zone");
    expect(Object.keys(node.metadata?.labels ?? {})).not.toContain("topology.kubernetes.io/region");
  });

  it("places a Node with a zone and providerID in that zone and its region", () => {
    const [node] = seedNodes([{ ...seedNodeSource(1), zone: "eu-west-2b", providerID: "aws:///eu-west-2b/i-0abc" }]);
    expect(node?.spec?.providerID).toBe("aws:///eu-west-2b/i-0abc");
    expect(node?.metadata?.labels).toMatchObject({
      "topology.kubernetes.io/zone": "eu-west-2b",
      "topology.kubernetes.io/region": "eu-west-2",
    });
  });

  it("defaults to three AWS-shaped Nodes in us-east-1a", () => {
    expect(SEED_NODE_SOURCES.map((source) => [source.nodeName, source.privateIp, source.zone])).toEqual([
      ["node-1", "192.168.1.2", "us-east-1a"],
      ["node-2", "192.168.1.3", "us-east-1a"],
      ["node-3", "192.168.1.4", "us-east-1a"],
    ]);
  });
});
