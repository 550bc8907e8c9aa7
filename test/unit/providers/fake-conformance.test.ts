import { describeProviderConformance, exampleNodes } from "../../../providers/conformance/index.ts";
import { createFakeProvider } from "../../../providers/fake/index.ts";

describeProviderConformance({
  name: "fake",
  create: ({ onCall }) => ({ provider: createFakeProvider({ onCall }), nodes: exampleNodes(5) }),
  restart: ({ onCall }, { provider }) => createFakeProvider({ onCall, cloud: provider.cloud }),
  deleteOutOfBand: (ref, { provider }) => {
    provider.deleteOutOfBand(ref);
  },
  // Any address: the fake cloud gives whatever spec.loadBalancerIP asks for.
  loadBalancerIP: "192.0.2.10",
  skip: {
    "leaves-foreign-resources-alone":
      "the fake cloud holds only load balancers made for a ref, keyed by it; nothing else can stand in the way",
  },
});
