/**
 * Telling the controller's Events from the API server's. kube-apiserver writes Warnings of its own
 * on Services (for example `ClusterIPNotAllocated` when its repair loop races a create on a loaded
 * machine), so a test that counts Warnings must count only the ones lb-provisioner wrote.
 *
 * @module
 */
import type { CoreV1Event } from "@kubernetes/client-node";

/** The component the controller's Event recorder names by default (src/controller/controller.ts). */
export const CONTROLLER_EVENT_COMPONENT = "lb-provisioner";

/** True for a Warning Event that lb-provisioner wrote. */
export function isControllerWarning(event: CoreV1Event): boolean {
  const component = event.reportingComponent || event.source?.component;
  return event.type === "Warning" && component === CONTROLLER_EVENT_COMPONENT;
}
