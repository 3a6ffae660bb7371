/**
 * The failures every Databricks adapter raises, as data the domain may inspect (status, error code,
 * attempts, transport kind) to decide whether a change reached Databricks. The HTTP layer
 * (databricks/http.ts) throws them; nothing here knows HTTP.
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Databricks answered with an error (its envelope, or a bare status from a proxy). */
export class DatabricksApiError extends Error {
  override readonly name = 'DatabricksApiError';
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly requestId: string | undefined,
    readonly method: HttpMethod,
    readonly path: string,
    readonly retryAfterMs?: number,
    readonly details?: unknown,
    public attempts = 1,
  ) {
    super(message);
  }
}

export type TransportFailure = 'timeout' | 'connection' | 'aborted' | 'invalid_response';

/** The call did not get a usable answer: timed out, connection failed, or the body made no sense. */
export class DatabricksTransportError extends Error {
  override readonly name = 'DatabricksTransportError';
  constructor(
    readonly kind: TransportFailure,
    message: string,
    readonly method: HttpMethod,
    readonly path: string,
    public attempts = 1,
  ) {
    super(message);
  }
}

export type DatabricksError = DatabricksApiError | DatabricksTransportError;
