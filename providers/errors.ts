/**
 * The only errors a provider throws on purpose. Each cloud's own errors are sorted into these once, at
 * that provider's cloud boundary; the controller decides what to do from the class alone (see
 * {@link LoadBalancerProvider} in `types.ts`).
 *
 * Classify with `instanceof` or, across module copies (a plugin bundling its own copy of this package),
 * with {@link providerErrorKind}, which reads the stable `kind` field.
 *
 * @module
 */

/** Stable discriminator, also readable across copies of this module. */
export type ProviderErrorKind = "retry-after" | "invalid-configuration" | "conflict" | "transient" | "throttled";

/** Base class: a message, the underlying `cause`, and a `kind` the controller switches on. */
export abstract class ProviderError extends Error {
  abstract readonly kind: ProviderErrorKind;
}

/** The load balancer is not ready yet; try again after exactly `retryAfterMs`. Not a failure. */
export class RetryAfterError extends ProviderError {
  override readonly name = "RetryAfterError";
  readonly kind = "retry-after";
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options?: ErrorOptions) {
    super(message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * The spec cannot be built as asked (bad annotation, unsupported protocol, too many ports...). Terminal
 * until the Service changes. `field` names what to fix, e.g. `spec.ports[0].protocol`.
 */
export class InvalidConfigurationError extends ProviderError {
  override readonly name = "InvalidConfigurationError";
  readonly kind = "invalid-configuration";
  readonly field: string;
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(`${field}: ${message}`, options);
    this.field = field;
  }
}

/** A resource the load balancer needs exists but is not this Service's; it is never touched. */
export class ConflictError extends ProviderError {
  override readonly name: string = "ConflictError";
  readonly kind = "conflict";
  /** The cloud's identifier of the resource in the way (name or ARN). */
  readonly resource: string;
  constructor(resource: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.resource = resource;
  }
}

/** A failure worth retrying with backoff: network errors, 5xx, eventual consistency, resource in use. */
export class TransientError extends ProviderError {
  override readonly name: string = "TransientError";
  readonly kind: ProviderErrorKind = "transient";
}

/** The cloud rate-limited us even after the provider's own retries. Retried with backoff. */
export class ThrottledError extends TransientError {
  override readonly name = "ThrottledError";
  override readonly kind = "throttled";
}

const KINDS: ReadonlySet<string> = new Set<ProviderErrorKind>([
  "retry-after",
  "invalid-configuration",
  "conflict",
  "transient",
  "throttled",
]);

/** The provider error kind of `error`, or `undefined` for anything else (treated as transient). */
export function providerErrorKind(error: unknown): ProviderErrorKind | undefined {
  if (typeof error !== "object" || error === null || !("kind" in error)) return undefined;
  const kind = (error as { kind: unknown }).kind;
  return typeof kind === "string" && KINDS.has(kind) ? (kind as ProviderErrorKind) : undefined;
}
