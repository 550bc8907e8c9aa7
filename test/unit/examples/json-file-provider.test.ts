import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { conformanceSpec, describeProviderConformance, exampleNodes } from "../../../providers/conformance/index.ts";
import { loadProvider } from "../../../providers/index.ts";
import type { LoadBalancerRef, ProviderCall, ProviderLogger } from "../../../providers/types.ts";

// The example plugin is loaded the way an operator would load it: by path, through loadProvider.
const pluginPath = fileURLToPath(new URL("../../../examples/json-file-provider/index.ts", import.meta.url));
const silent: ProviderLogger = { debug() {}, info() {}, warn() {}, error() {} };
const scratch = mkdtempSync(join(tmpdir(), "lbp-json-provider-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface StoredDocument {
  loadBalancers: Record<string, { namespace: string; name: string; clusterName: string }>;
}

/** Removes a Service's record straight from the file, as someone editing the "cloud" by hand would. */
function deleteFromFile(stateFile: string, ref: LoadBalancerRef): void {
  const document = JSON.parse(readFileSync(stateFile, "utf8")) as StoredDocument;
  for (const [key, record] of Object.entries(document.loadBalancers)) {
    const same =
      record.clusterName === ref.clusterName &&
      record.namespace === ref.service.namespace &&
      record.name === ref.service.name;
    if (same) delete document.loadBalancers[key];
  }
  writeFileSync(stateFile, JSON.stringify(document));
}

const conformanceState = join(scratch, "conformance.json");

describeProviderConformance({
  name: "examples/json-file-provider (loaded by path)",
  create: async ({ onCall }) => ({
    provider: await loadProvider(pluginPath, {
      clusterName: "conformance",
      logger: silent,
      onCall,
      settings: { stateFile: conformanceState },
    }),
    nodes: exampleNodes(5),
  }),
  deleteOutOfBand: (ref) => deleteFromFile(conformanceState, ref),
});

describe("examples/json-file-provider", () => {
  it("keeps its load balancers in the state file, addressed from a documentation range", async () => {
    const stateFile = join(scratch, "seed.json");
    const calls: ProviderCall[] = [];
    const provider = await loadProvider(pluginPath, {
      clusterName: "demo",
      logger: silent,
      onCall: (call) => calls.push(call),
      settings: { stateFile },
    });
    const spec = conformanceSpec({ clusterName: "demo", namespace: "default", name: "web", nodes: exampleNodes(3) });
    expect(await provider.ensureLoadBalancer(spec)).toEqual({ ingress: [{ ip: "198.51.100.1" }] });
    const stored = JSON.parse(readFileSync(stateFile, "utf8")) as { loadBalancers: Record<string, unknown> };
    expect(Object.values(stored.loadBalancers)).toEqual([
      expect.objectContaining({
        namespace: "default",
        name: "web",
        ip: "198.51.100.1",
        listeners: [
          expect.objectContaining({
            port: 80,
            nodePort: 30008,
            targets: ["192.168.1.2", "192.168.1.3", "192.168.1.4"],
          }),
        ],
      }),
    ]);
    expect(calls.map((c) => `${c.operation}:${c.mutating}`)).toEqual(["ReadState:false", "WriteState:true"]);
  });

  it("rejects settings it does not know through the loader, in one line", async () => {
    await expect(
      loadProvider(pluginPath, { clusterName: "demo", logger: silent, settings: { statefile: "x" } }),
    ).rejects.toThrow(
      /^cannot load provider ".*json-file-provider\/index\.ts": its provider factory failed: InvalidConfigurationError: --provider-config statefile: unknown setting; this provider accepts stateFile$/,
    );
  });
});
