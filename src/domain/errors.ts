import { randomUUID } from 'node:crypto';
/**
 * Errors a user can act on. Every error that reaches Slack is either a UserError (shown with its
 * hint) or replaced by a short apology carrying a correlation id; see the reply boundary in slack/.
 *
 * @example throw new UserError('unknown_endpoint', 'No endpoint called "churn".', 'Run `/mlops status` to list endpoints.');
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** True for errors whose text is safe and useful to show to a user as is. */
export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/**
 * A short id that ties an apology shown in Slack to the log line with the real error.
 *
 * @example newCorrelationId() // 'c0ffee42'
 */
export function newCorrelationId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 8);
}
