import { describeProviderConformance, exampleNodes } from "../../../providers/conformance/index.ts";
import { createFakeProvider } from "../../../providers/fake/index.ts";

describeProviderConformance({
  name: "fake",
  create: ({ onCall }) => ({ provider: createFakeProvider({ onCall }), nodes: exampleNodes(5) }),
  deleteOutOfBand: (ref, { provider }) => {
    provider.deleteOutOfBand(ref);
  },
});
