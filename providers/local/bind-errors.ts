/**
 * The local provider's cloud boundary: a socket that cannot be bound, sorted once into the provider
 * error classes by its system error code, with a message naming the Service port and the fix.
 *
 * @module
 */
import { ConflictError, InvalidConfigurationError, type ProviderError, TransientError } from "../errors.ts";
import { hostPort } from "./targets.ts";

export interface BindAttempt {
  /** The Service field of the port, e.g. `spec.ports[0].port`. */
  readonly field: string;
  readonly address: string;
  readonly port: number;
  readonly protocol: "TCP" | "UDP";
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** The provider error for a failed bind. */
export function classifyBindError(error: unknown, attempt: BindAttempt): ProviderError {
  const where = `${hostPort(attempt.address, attempt.port)}/${attempt.protocol}`;
  switch (codeOf(error)) {
    case "EACCES":
    case "EPERM":
      return new InvalidConfigurationError(
        attempt.field,
        `the controller may not listen on ${where}: port ${attempt.port} is privileged; grant the controller CAP_NET_BIND_SERVICE (e.g. setcap cap_net_bind_service=+ep on its node binary), lower sysctl net.ipv4.ip_unprivileged_port_start to ${attempt.port} or less, or use a port of 1024 or above`,
        { cause: error },
      );
    case "EADDRINUSE":
      // Someone else's socket: never ours to touch, and it may go away, so retried on the slow backoff.
      return new ConflictError(
        where,
        `${attempt.field}: ${where} is in use by another program on this machine; stop it, or use another port`,
        { cause: error },
      );
    case "EADDRNOTAVAIL":
      return new TransientError(
        `${attempt.field}: cannot listen on ${where}: ${attempt.address} is not an address of this machine; add it to an interface or change --provider-config addresses`,
        { cause: error },
      );
    default:
      return new TransientError(
        `${attempt.field}: cannot listen on ${where}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
  }
}
