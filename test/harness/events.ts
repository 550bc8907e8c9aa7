/**
 * Telling the controller's Events from the API server's. kube-apiserver writes Warnings of its own
 * on Services (for example `ClusterIPNotAllocated` when its repair loop races a create on a loaded
 * machine), so a test that counts Warnings must count only the ones lb-provisioner wrote.
 *
 * @module
 */
import type { CoreV1Api, CoreV1Event } from "@kubernetes/client-node";

/** The component the controller's Event recorder names by default (src/controller/controller.ts). */
export const CONTROLLER_EVENT_COMPONENT = "lb-provisioner";

/** True for a Warning Event that lb-provisioner wrote. */
export function isControllerWarning(event: CoreV1Event): boolean {
  const component = event.reportingComponent || event.source?.component;
  return event.type === "Warning" && component === CONTROLLER_EVENT_COMPONENT;
}

/** The Warning Events lb-provisioner wrote on the object `name` in `namespace`. */
export async function controllerWarningsOn(core: CoreV1Api, namespace: string, name: string): Promise<CoreV1Event[]> {
  const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return events.items.filter(isControllerWarning);
}
