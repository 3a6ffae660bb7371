/**
 * Slack signs the time it sent a request, so a replay of a captured request can be refused. Bolt
 * refuses requests more than 5 minutes old but not ones stamped in the future, which a sender
 * with a fast clock (or someone who captured a request signed ahead) could replay for as long as
 * they like; this checks both directions. Pure.
 */

/** How far a request's timestamp may be from now, either way (Slack's own guidance). */
export const MAX_REQUEST_SKEW_MS = 5 * 60_000;

/**
 * Whether the `X-Slack-Request-Timestamp` header (seconds) is more than `maxSkewMs` from `nowMs`,
 * before or after. A missing or unreadable header is left to the signature check, which refuses it.
 *
 * @example isSkewedRequest(String(Math.floor(Date.now() / 1000) + 600), Date.now()) // true
 */
export function isSkewedRequest(
  header: string | string[] | undefined,
  nowMs: number,
  maxSkewMs: number = MAX_REQUEST_SKEW_MS,
): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d+$/.test(value.trim())) return false;
  return Math.abs(Number(value) * 1000 - nowMs) > maxSkewMs;
}
