import { createServer } from "node:net";
import { CONFORMANCE_CASES, describeProviderConformance } from "../../../providers/conformance/index.ts";
import { chooseAddress, LocalProvider, parseLocalSettings } from "../../../providers/local/index.ts";
import { canBindPrivilegedPorts, loopbackNode } from "./loopback.ts";

// Nearly every case listens on port 80 or 443, as real Services do. Without the privilege to bind them
// the provider rightly refuses (that refusal has its own test), so the cases are reported as skipped.
const privileged = await canBindPrivilegedPorts();
const unprivileged = privileged
  ? {}
  : Object.fromEntries(
      CONFORMANCE_CASES.map((name) => [
        name,
        "this process may not bind ports below 1024 (run as root, or with CAP_NET_BIND_SERVICE)",
      ]),
    );

const settings = parseLocalSettings({ addresses: "127.102.0.0/16", healthCheckIntervalSeconds: "0.2" });

describeProviderConformance({
  name: "local (real sockets on loopback)",
  create: ({ onCall }) => ({
    provider: new LocalProvider({ settings, onCall }),
    // Loopback addresses nobody listens on: probes fail fast with a refused connection.
    nodes: [1, 2, 3, 4, 5].map((i) => loopbackNode(`node-${i}`, `127.0.102.${i + 1}`)),
  }),
  deleteOutOfBand: (ref, { provider }) => {
    provider.deleteOutOfBand(ref);
  },
  // Another program listening on the address and port the Service's load balancer would take.
  occupy: async (ref) => {
    const address = chooseAddress(settings.addresses, ref, [], new Set()) as string;
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(80, address, resolve));
    return {
      exists: () => server.listening,
      remove: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  },
  // From the pool, for spec.loadBalancerIP.
  loadBalancerIP: "127.102.250.1",
  skip: {
    "same-ref-after-restart":
      "the local provider's cloud is its own process, so a restart starts with none; the address comes back from spec.publishedStatus (data-plane.test.ts) and the controller re-ensures",
    ...unprivileged,
  },
});
