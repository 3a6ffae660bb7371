/**
 * The failures every Databricks adapter raises, as data the domain may inspect (status, error code,
 * attempts, transport kind) to decide whether a change reached Databricks. The HTTP layer
 * (databricks/http.ts) throws them; nothing here knows HTTP.
 */
import { UserError } from '../errors.js';

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
    /** The body was an HTML page: a proxy or load balancer in front of the workspace answered. */
    readonly gateway = false,
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

/**
 * True for answers that mean "Databricks is unavailable" rather than "Databricks refused": a 502,
 * 503 or 504, or any HTML page (a proxy or load balancer in front of the workspace answered).
 *
 * @example isUnavailable(new DatabricksApiError(502, 'BAD_GATEWAY', 'HTTP 502', undefined, 'GET', '/')) // true
 */
export function isUnavailable(err: DatabricksApiError): boolean {
  return err.gateway || err.status === 502 || err.status === 503 || err.status === 504;
}

/**
 * The coded form of a Databricks outage that outlasted the retries, for the Slack edge to word;
 * undefined for any other error.
 *
 * @example unavailableError(e)?.details // { status: 502, errorCode: 'BAD_GATEWAY', gateway: true, attempts: 6 }
 */
export function unavailableError(e: unknown): UserError<'databricks_unavailable'> | undefined {
  if (!(e instanceof DatabricksApiError) || !isUnavailable(e)) return undefined;
  return new UserError('databricks_unavailable', {
    status: e.status,
    errorCode: e.errorCode,
    gateway: e.gateway,
    attempts: e.attempts,
  });
}
