import type { ProviderCall } from "lb-provisioner/providers";
import { describeProviderConformance, exampleNodes } from "lb-provisioner/providers/conformance";
import { exampleCloud } from "../src/cloud.ts";
import createProvider, { loadBalancerName } from "../src/index.ts";

const logger = { debug() {}, info() {}, warn() {}, error() {} };
const create = (onCall: (call: ProviderCall) => void) =>
  createProvider({ clusterName: "conformance", logger, onCall, settings: {} });

describeProviderConformance({
  name: "provider-template",
  create: async ({ onCall }) => ({ provider: await create(onCall), nodes: exampleNodes(5) }),
  // The hooks reach the cloud directly, as an operator or another tool would.
  restart: ({ onCall }) => create(onCall),
  deleteOutOfBand: (ref) => exampleCloud.delete(loadBalancerName(ref)),
  occupy: async (ref) => {
    const name = loadBalancerName(ref);
    await exampleCloud.create({ name, tags: {}, listeners: [], allowedSourceRanges: [] });
    return {
      exists: async () => (await exampleCloud.describe(name)) !== undefined,
      remove: () => exampleCloud.delete(name),
    };
  },
});
