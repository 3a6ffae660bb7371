import { randomUUID } from 'node:crypto';

/**
 * A short id that ties an apology shown in Slack to the log line with the real error.
 *
 * @example newCorrelationId() // 'c0ffee42'
 */
export function newCorrelationId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 8);
}
