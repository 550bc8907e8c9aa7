import { CONFORMANCE_CASES, describeProviderConformance } from "../../../providers/conformance/index.ts";
import { LocalProvider, parseLocalSettings } from "../../../providers/local/index.ts";
import { canBindPrivilegedPorts, loopbackNode } from "./loopback.ts";

// Nearly every case listens on port 80 or 443, as real Services do. Without the privilege to bind them
// the provider rightly refuses (that refusal has its own test), so the cases are reported as skipped.
const privileged = await canBindPrivilegedPorts();
const skip = privileged
  ? {}
  : Object.fromEntries(
      CONFORMANCE_CASES.map((name) => [
        name,
        "this process may not bind ports below 1024 (run as root, or with CAP_NET_BIND_SERVICE)",
      ]),
    );

describeProviderConformance({
  name: "local (real sockets on loopback)",
  create: ({ onCall }) => ({
    provider: new LocalProvider({
      settings: parseLocalSettings({ addresses: "127.102.0.0/16", healthCheckIntervalSeconds: "0.2" }),
      onCall,
    }),
    // Loopback addresses nobody listens on: probes fail fast with a refused connection.
    nodes: [1, 2, 3, 4, 5].map((i) => loopbackNode(`node-${i}`, `127.0.102.${i + 1}`)),
  }),
  deleteOutOfBand: (ref, { provider }) => {
    provider.deleteOutOfBand(ref);
  },
  skip,
});
