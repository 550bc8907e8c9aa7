/**
 * Reading Kubernetes API failures by HTTP status, the only stable part of them: the client raises
 * `ApiException` (`code`) for API calls and a plain error with `statusCode` for watches.
 *
 * @module
 */

/** The HTTP status of a failed API call or watch, or `undefined` for network and other errors. */
export function apiStatusCode(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  if (typeof code === "number") return code;
  if (typeof statusCode === "number") return statusCode;
  return undefined;
}

export function isNotFound(error: unknown): boolean {
  return apiStatusCode(error) === 404;
}

/** A write lost an optimistic-concurrency race (stale resourceVersion) or a create found the object existing. */
export function isConflict(error: unknown): boolean {
  return apiStatusCode(error) === 409;
}

/**
 * A short description of an API failure for logs and events: the status and the API server's own
 * message, without the response headers and body dump the client puts in `message`.
 */
export function describeApiError(error: unknown): string {
  const status = apiStatusCode(error);
  const body = (error as { body?: unknown } | null)?.body;
  let serverMessage: string | undefined;
  if (typeof body === "string") {
    try {
      serverMessage = (JSON.parse(body) as { message?: string }).message;
    } catch {
      serverMessage = undefined;
    }
  } else if (typeof body === "object" && body !== null) {
    serverMessage = (body as { message?: string }).message;
  }
  if (status !== undefined) return `HTTP ${status}${serverMessage ? `: ${serverMessage}` : ""}`;
  return error instanceof Error ? error.message : String(error);
}
