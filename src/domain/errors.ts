/**
 * Every code a UserError may carry. Code that branches on an error compares `e.code` with one of
 * these, so a typo fails to compile; the Slack edge (slack/blocks/errors.ts) has one wording per code.
 */
export const ERROR_CODES = [
  // Endpoint configs and Model Serving
  'invalid_config',
  'too_many_versions',
  'invalid_version',
  'duplicate_served_name',
  'duplicate_version',
  'invalid_traffic',
  'invalid_name',
  'invalid_inference_table',
  'endpoint_not_found',
  'rollout_in_progress',
  'permission_denied',
  'serving_rejected',
  'endpoint_exists',
  'create_outcome_unknown',
  'model_not_found',
  'payload_too_large',
  'endpoint_not_ready',
  'inference_table_already_enabled',
  'rollout_watch_failed',
  // Model registry and names
  'version_not_ready',
  'version_not_found',
  'alias_not_found',
  'alias_permission_denied',
  'invalid_model_name',
  'invalid_alias_name',
  // Jobs and monitors
  'run_not_found',
  'job_not_found',
  'invalid_table_name',
  'monitor_not_ready',
  'table_not_found',
  'monitor_not_found',
  'refresh_not_found',
  // SQL warehouse
  'sql_error',
  'auth',
  'timeout',
  'cancelled',
  'warehouse_starting',
  'connection',
  'row_invalid',
  'invalid_identifier',
  'invalid_parameter',
  // Charts
  'chart_unavailable',
  // Slack: user groups, channels, rights, drift alerts
  'directory_missing_scope',
  'directory_auth',
  'directory_unavailable',
  'directory_rate_limited',
  'directory_unreachable',
  'directory_failed',
  'channel_not_allowed',
  'not_allowed',
  'unknown_alert',
  'alert_closed',
  'retrain_unavailable',
  // Thrown with the legacy (code, message, hint) form by commands/, changes/, approvals/, drift/, jobs/
  'bad_input',
  'unknown_endpoint',
  'no_change',
  'no_history',
  'no_live_config',
  'nothing_served',
  'several_models',
  'plan_check_failed',
  'gate_missing',
  'approvals_unavailable',
  'drift_not_configured',
  'granularity_not_monitored',
  'no_monitors',
  'no_retraining_job',
  'no_warehouse',
  'unknown_job_parameter',
  'unknown_monitor',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** A message Databricks (or another service) sent back, relayed to the user as it came. */
type Relayed = string;

/** Codes that are only thrown with the legacy form so far: they have no details yet. */
type LegacyOnly = never;

/** The SQL state a warehouse error came with, when the warehouse gave one. */
interface SqlStateful {
  sqlState?: string | undefined;
}

/**
 * The data each code carries: names, numbers and relayed service messages, never prose or mrkdwn.
 * A `variant` tells apart the situations one code covers.
 */
export interface ErrorDetailsByCode {
  invalid_config:
    | { variant: 'no_versions' | 'no_model_name' | 'no_warehouse_configured' }
    | { variant: 'http_path' | 'warehouse_id' | 'host_not_url' | 'host_not_https'; value: string };
  too_many_versions: { max: number; count: number };
  invalid_version: { value: string; source: 'config' | 'registry' };
  duplicate_served_name: { servedName: string };
  duplicate_version: { model: string; version: string };
  invalid_traffic:
    | { variant: 'split_missing'; servedNames: string[] }
    | { variant: 'unknown_route'; servedName: string; servedNames: string[] }
    | { variant: 'two_routes'; servedName: string }
    | { variant: 'bad_percent'; servedName: string; percent: number }
    | { variant: 'total'; total: number };
  invalid_name: { name: string; what: 'endpoint' | 'served version' };
  invalid_inference_table:
    | { variant: 'missing_part'; part: 'catalog' | 'schema' }
    | { variant: 'prefix'; prefix: string };
  endpoint_not_found: { endpoint: string };
  rollout_in_progress: { endpoint: string };
  permission_denied: { endpoint: string; action: string; databricksMessage: Relayed };
  serving_rejected: { endpoint: string; action: string; databricksMessage: Relayed };
  endpoint_exists: { endpoint: string };
  create_outcome_unknown: { endpoint: string; transportMessage: Relayed };
  model_not_found:
    | { variant: 'registry'; model: string }
    | { variant: 'create'; endpoint: string; databricksMessage: Relayed };
  payload_too_large: { bytes: number; maxBytes: number };
  endpoint_not_ready: { endpoint: string; databricksMessage: Relayed };
  inference_table_already_enabled: { endpoint: string };
  rollout_watch_failed: { endpoint: string; causeMessage: Relayed };
  version_not_ready: { model: string; version: number; status: string };
  version_not_found: { model: string; version: number; suggestListing: boolean };
  alias_not_found: { model: string; alias: string };
  alias_permission_denied: { model: string; databricksMessage: Relayed };
  invalid_model_name: {
    input: string;
    problem:
      | { kind: 'parts'; count: number }
      | { kind: 'empty_part' }
      | { kind: 'part_too_long'; max: number }
      | { kind: 'part_characters'; part: string };
  };
  invalid_alias_name: { alias: string; reserved: boolean };
  run_not_found: { runId: number };
  job_not_found: { jobId: number };
  invalid_table_name: { table: string };
  monitor_not_ready: { table: string; status?: string };
  table_not_found: { table: string };
  monitor_not_found: { table: string };
  refresh_not_found: { table: string; refreshId: string };
  sql_error: SqlStateful &
    ({ variant: 'statement'; warehouseMessage: Relayed } | { variant: 'driver'; driverMessage: Relayed });
  auth: SqlStateful &
    ({ variant: 'token_provider'; causeMessage: Relayed } | { variant: 'refused'; status: number });
  timeout: SqlStateful &
    (
      | { variant: 'statement_timeout'; warehouseMessage: Relayed }
      | { variant: 'deadline'; seconds: number }
      | { variant: 'no_answer' }
    );
  cancelled: SqlStateful & { variant: 'on_warehouse' | 'by_caller' };
  warehouse_starting: SqlStateful;
  connection: SqlStateful &
    (
      | { variant: 'no_warehouse_at'; httpPath: string }
      | { variant: 'http_status'; status: number }
      | { variant: 'unreachable'; causeMessage: Relayed }
      | { variant: 'closed' }
    );
  row_invalid: SqlStateful & { row: string; path: string; issue: string };
  invalid_identifier: SqlStateful & {
    variant: 'part' | 'table';
    name: string;
    what: 'table name' | 'column name';
  };
  invalid_parameter: SqlStateful &
    (
      | { variant: 'name'; name: string }
      | { variant: 'not_finite'; name: string; value: number }
      | { variant: 'invalid_date'; name: string }
      | { variant: 'unsupported_type'; name: string }
      | { variant: 'date_text'; value: string }
    );
  chart_unavailable:
    | { variant: 'unreachable'; host: string; causeMessage: Relayed }
    | { variant: 'http'; host: string; status: number; serviceMessage?: Relayed }
    | { variant: 'no_short_url' };
  directory_missing_scope: Record<string, never>;
  directory_auth: { slackError: string };
  directory_unavailable: Record<string, never>;
  directory_rate_limited: Record<string, never>;
  directory_unreachable: Record<string, never>;
  directory_failed: { slackError?: string };
  channel_not_allowed:
    | { variant: 'approvals'; approvalChannel?: string }
    // The reason and hint come worded from config/access.ts until it returns data too.
    | { variant: 'access'; reason: string; hint?: string };
  not_allowed: { reason: string; hint?: string };
  unknown_alert: Record<string, never>;
  alert_closed: { monitor: string; rule: string };
  retrain_unavailable: Record<string, never>;
  bad_input: LegacyOnly;
  unknown_endpoint: LegacyOnly;
  no_change: LegacyOnly;
  no_history: LegacyOnly;
  no_live_config: LegacyOnly;
  nothing_served: LegacyOnly;
  several_models: LegacyOnly;
  plan_check_failed: LegacyOnly;
  gate_missing: LegacyOnly;
  approvals_unavailable: LegacyOnly;
  drift_not_configured: LegacyOnly;
  granularity_not_monitored: LegacyOnly;
  no_monitors: LegacyOnly;
  no_retraining_job: LegacyOnly;
  no_warehouse: LegacyOnly;
  unknown_job_parameter: LegacyOnly;
  unknown_monitor: LegacyOnly;
}

export type ErrorDetails<C extends ErrorCode = ErrorCode> = ErrorDetailsByCode[C];

/** An error put into words: what happened, and what to do about it. */
export interface ErrorWords {
  text: string;
  hint?: string | undefined;
}

let installedWording: ((e: UserError) => ErrorWords) | undefined;

/**
 * @deprecated Transitional: lets code that still reads `err.message` / `err.hint` of a coded error
 * get the words. slack/blocks/errors.ts installs its wording when it is loaded; new code renders
 * errors with `describeError` at the edge instead.
 */
export function installErrorWording(wording: (e: UserError) => ErrorWords): void {
  installedWording = wording;
}

/**
 * Errors a user can act on. Every error that reaches Slack is either a UserError (put into words
 * by slack/blocks/errors.ts) or replaced by a short apology carrying a correlation id.
 *
 * @example throw new UserError('endpoint_not_found', { endpoint: 'churn' });
 */
export class UserError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name: string = 'UserError';
  readonly code: C;
  /** What the error is about, as data. Empty for errors built with the legacy form. */
  readonly details: ErrorDetails<C>;
  /** Words given by the legacy form; coded errors get theirs at the edge. */
  readonly legacyWords: ErrorWords | undefined;

  constructor(code: C, details: ErrorDetails<C>);
  /** @deprecated Pass details, and word the error in slack/blocks/errors.ts. */
  constructor(code: C, message: string, hint?: string);
  constructor(code: C, detailsOrMessage: ErrorDetails<C> | string, hint?: string) {
    super();
    this.code = code;
    if (typeof detailsOrMessage === 'string') {
      this.legacyWords = { text: detailsOrMessage, ...(hint !== undefined ? { hint } : {}) };
      this.details = {} as ErrorDetails<C>;
    } else {
      this.legacyWords = undefined;
      this.details = detailsOrMessage;
    }
    // An accessor, so that a coded error's message is worded by whatever wording is installed.
    Object.defineProperty(this, 'message', {
      get: () => this.words().text,
      enumerable: false,
      configurable: true,
    });
  }

  /** @deprecated Read the hint from `describeError` (slack/blocks/errors.ts). */
  get hint(): string | undefined {
    return this.words().hint;
  }

  private words(): ErrorWords {
    if (this.legacyWords) return this.legacyWords;
    if (installedWording) return installedWording(this);
    return { text: `${this.code} ${JSON.stringify(this.details)}` };
  }
}

/** True for errors whose text is safe and useful to show to a user as is. */
export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/**
 * Narrows an error to one code, with that code's details.
 *
 * @example if (hasCode(e, 'endpoint_not_found')) return e.details.endpoint;
 */
export function hasCode<C extends ErrorCode>(e: unknown, code: C): e is UserError<C> {
  return e instanceof UserError && e.code === code;
}
