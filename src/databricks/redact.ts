/**
 * Takes secrets out of text a service sends back. Databricks error messages sometimes echo what
 * they were given (a URL with a SAS token, a header, a connection string), and the bot relays
 * those messages to Slack, the logs and the audit trail; so they are redacted once, where they
 * come in (http.ts), and nothing downstream ever holds the secret. Pure.
 */

/** What stands in for a secret. */
export const REDACTED = '[redacted]';

/** Names of query, form or config values that carry a secret (`token=…`, `password: …`). */
const SECRET_KEYS =
  'access_token|refresh_token|id_token|client_secret|token|password|passwd|pwd|secret|api_?key|apikey|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|sas|sastoken|credential|private_key';

const PATTERNS: ReadonlyArray<{ re: RegExp; to: string }> = [
  // Authorization values, whatever token they carry (a credential has a digit or a symbol in
  // it; "Basic authentication" is words).
  {
    re: /\b(Bearer|Basic)\s+(?=[^\s]*[0-9+/=._~-])[A-Za-z0-9._~+/=-]{7,}[A-Za-z0-9_~+/=-]/gi,
    to: `$1 ${REDACTED}`,
  },
  // key=value in URLs and forms, and "key": "value" / key: value in JSON and config text.
  { re: new RegExp(`\\b(${SECRET_KEYS})=[^&\\s"'<>]+`, 'gi'), to: `$1=${REDACTED}` },
  // A quoted key, or a quoted value: "Invalid access token: it expired" is no secret.
  {
    re: new RegExp(`(["'](?:${SECRET_KEYS})["']\\s*:\\s*)("[^"]*"|'[^']*'|[^\\s,;}]+)`, 'gi'),
    to: `$1${REDACTED}`,
  },
  { re: new RegExp(`(\\b(?:${SECRET_KEYS})\\s*:\\s*)("[^"]*"|'[^']*')`, 'gi'), to: `$1${REDACTED}` },
  // Databricks personal access tokens and OAuth secrets.
  { re: /\bdapi[0-9a-f]{16,}(?:-\d+)?\b/gi, to: REDACTED },
  { re: /\bdose[0-9a-f]{16,}\b/gi, to: REDACTED },
  // JSON Web Tokens (OAuth access tokens): header.payload.signature, header always eyJ….
  { re: /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, to: REDACTED },
  // Slack tokens (bot, user, app, refresh, config).
  { re: /\b(?:xox[abpores]|xapp|xoxe\.xox[bp])-[A-Za-z0-9-]{8,}/g, to: REDACTED },
  // GitHub and AWS keys, which notebooks and jobs sometimes print.
  { re: /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g, to: REDACTED },
  { re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, to: REDACTED },
  // Long hex strings: secrets and keys. Request ids are UUIDs (dashed groups), so they stay.
  { re: /\b[0-9a-fA-F]{32,}\b/g, to: REDACTED },
];

/**
 * The text with every token-like string replaced by `[redacted]`.
 *
 * @example redactSecrets('invalid token dapi0123456789abcdef0123456789abcdef') // 'invalid token [redacted]'
 * @example redactSecrets('GET https://x.blob.core.windows.net/c?sv=1&sig=abc%2F') // '…?sv=1&sig=[redacted]'
 */
export function redactSecrets(text: string): string {
  let out = text;
  for (const { re, to } of PATTERNS) out = out.replace(re, to);
  return out;
}

/**
 * A parsed JSON value with every string in it redacted (an error envelope's `details`).
 *
 * @example redactDeep([{ reason: 'Bearer eyJ…' }]) // [{ reason: 'Bearer [redacted]' }]
 */
export function redactDeep(value: unknown): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (Array.isArray(value)) return value.map(redactDeep);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)]));
  }
  return value;
}
