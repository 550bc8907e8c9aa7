/**
 * The local provider (`--provider local`): the controller process itself is the load balancer. Each
 * LoadBalancer Service gets an address from a pool and, on each of its ports, a TCP or UDP listener
 * there that forwards to every eligible node's nodePort, round robin over the healthy ones. For dev
 * clusters (kind, k3d, minikube, kubeadm VMs), CI and the demo; see docs/local.md.
 *
 * Settings (`--provider-config key=value`): declared as `providerSettings` in `settings.ts`.
 *
 * @module
 */
import type { ProviderFactory, ProviderOptions } from "../types.ts";
import { LocalProvider } from "./local-provider.ts";
import { registerLocalMetrics } from "./metrics.ts";
import { parseLocalSettings } from "./settings.ts";

export { AddressPool, chooseAddress, preferredIndex } from "./address-pool.ts";
export { LocalProvider, type LocalProviderOptions } from "./local-provider.ts";
export {
  DEFAULT_LINUX_ADDRESSES,
  LOCAL_SETTING_KEYS,
  type LocalSettings,
  parseLocalSettings,
  providerSettings,
} from "./settings.ts";

/** The factory `--provider local` uses. */
const createFromOptions: ProviderFactory = (options: ProviderOptions): LocalProvider => {
  const provider = new LocalProvider({
    settings: parseLocalSettings(options.settings),
    logger: options.logger,
    ...(options.onCall === undefined ? {} : { onCall: options.onCall }),
  });
  if (options.metricsRegistry !== undefined) {
    registerLocalMetrics(options.metricsRegistry, () => provider.loadBalancers());
  }
  return provider;
};

export default createFromOptions;
