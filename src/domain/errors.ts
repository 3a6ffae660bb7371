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
  'not_a_responder',
  // Commands, changes, approvals and drift checks
  'bad_input',
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
  // Plan expiry (changes/pipeline.ts)
  'plan_expired',
  // Retries that match the API (issue #12): outages, and updates whose answer was lost
  'databricks_unavailable',
  'update_not_applied',
  'change_outcome_unknown',
  // Canary rollouts (issue #15)
  'rollout_refused',
  'rollout_inference_table',
  'rollout_click',
  'endpoint_held_by_rollout',
  // Out-of-date clicks (issue #14)
  'alert_already_acknowledged',
  'alert_already_snoozed',
  // Monitor set-up and batch scoring (issue #16)
  'monitor_exists',
  'monitor_columns_missing',
  'monitor_setup_missing',
  'monitor_baseline_missing',
  'monitor_schema_missing',
  'monitor_setup_gone',
  'scoring_not_configured',
  'score_input_missing',
  'score_output_foreign',
  'score_same_table',
  // Deployment-job approvals (issue #16)
  'deployment_task_missing',
  // The store (issue #13): its database went away while the bot runs
  'store_unavailable',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** A message Databricks (or another service) sent back, relayed to the user as it came. */
type Relayed = string;

/** A coded error as data: what `bad_input` carries for a name the parser could not read. */
export type CodedDetails = { [C in ErrorCode]: { code: C; details: ErrorDetails<C> } }[ErrorCode];

/** Who a policy rule lets in, as data (config/access.ts's AccessRule). */
export interface AccessRuleData {
  users: string[];
  groups: string[];
  everyone: boolean;
}

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
  /** `suggestion`: an existing endpoint with a near name (did you mean). */
  endpoint_not_found: { endpoint: string; suggestion?: string };
  rollout_in_progress: { endpoint: string };
  permission_denied: { endpoint: string; action: string; databricksMessage: Relayed };
  serving_rejected: { endpoint: string; action: string; databricksMessage: Relayed };
  endpoint_exists: { endpoint: string };
  create_outcome_unknown: { endpoint: string; transportMessage: Relayed };
  model_not_found:
    | { variant: 'registry'; model: string; suggestion?: string }
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
  /** `retraining`: the id came from the policy's retraining or a monitor's retrainJob. */
  job_not_found: { jobId: number; source?: 'retraining' };
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
    /** A command or click outside the policy's `channels`, which are listed. */
    | { variant: 'access'; channels: string[] };
  /** Refused by the policy's `access` rules or a protected endpoint's `allow` list (config/access.ts). */
  not_allowed:
    | { variant: 'nobody'; subcommand: string; ruleExists: boolean }
    | { variant: 'not_in_rule'; subcommand: string; rule: AccessRuleData }
    | { variant: 'protected'; endpoint: string; allow: AccessRuleData };
  unknown_alert: Record<string, never>;
  alert_closed: { monitor: string; rule: string; closedAt?: number };
  /** A second Acknowledge: who is on it already, since when. */
  alert_already_acknowledged: { monitor: string; rule: string; by: string; at?: number };
  /** Snooze on a snoozed alert: who snoozed it, until when. */
  alert_already_snoozed: { monitor: string; rule: string; by?: string; until: number };
  retrain_unavailable: Record<string, never>;
  /** Snooze or Acknowledge by someone outside the monitor's responders (config/access.ts checkResponder). */
  not_a_responder: {
    monitor: string;
    action: 'snooze' | 'acknowledge';
    /** Where the rule comes from: `monitors.<name>.responders`, the retrain gate's approvers, or nowhere. */
    source: 'monitor' | 'retrain_gate' | 'none';
    rule: AccessRuleData;
  };
  /**
   * What the parser found wrong, and the hint (the usage line): commands/ words its own input
   * problems, as its schemas' messages are written for humans. A name that failed to parse stays coded.
   */
  bad_input: { problems: Array<string | CodedDetails>; hint: string };
  no_change:
    | { variant: 'endpoint'; endpoint: string; traffic: string; subcommand: 'deploy' | 'split' | 'rollback' }
    | { variant: 'alias'; model: string; alias: string; version: number };
  no_history: { endpoint: string };
  no_live_config: { endpoint: string };
  nothing_served: { endpoint: string; model: string; monitor: string };
  several_models: { endpoint: string; models: string[] };
  /** `reason`/`hint`: describeFailure's words for the Databricks trouble that stopped the check. */
  plan_check_failed: { stage: 'apply' | 'approve'; reason: string; hint?: string };
  gate_missing: { what: string; gate: string };
  approvals_unavailable: Record<string, never>;
  drift_not_configured: Record<string, never>;
  granularity_not_monitored: { table: string; granularity: string; granularities: string[]; monitor: string };
  no_monitors: Record<string, never>;
  no_retraining_job:
    | { variant: 'monitor'; monitor: string; model: string }
    | { variant: 'name'; name: string; known: string[] };
  no_warehouse: Record<string, never>;
  unknown_job_parameter: { job: string; jobId: number; unknown: string[]; declared: string[] };
  unknown_monitor: { name: string; monitors: string[] };
  /** Apply on a plan made `ageMs` ago, when plans are good for `expiresAfterMs`. */
  plan_expired: {
    subcommand: 'deploy' | 'split' | 'promote' | 'rollback';
    ageMs: number;
    expiresAfterMs: number;
  };
  databricks_unavailable: {
    status: number;
    errorCode: string;
    gateway: boolean;
    attempts: number;
    /** Said when the bot read Databricks afterwards and found its change not applied. */
    nothingChanged?: boolean;
  };
  update_not_applied: {
    endpoint: string;
    failure: LostAnswer;
    /** What the endpoint showed when read afterwards. */
    found: 'unchanged' | 'other_in_flight' | 'other_live';
    /** The config version in flight or live instead of ours, when Databricks gave one. */
    configVersion?: number;
  };
  change_outcome_unknown: { endpoint: string; failure: LostAnswer };
  /** A rollout that cannot be planned or started as asked. */
  rollout_refused:
    | { variant: 'busy_rollout'; endpoint: string; rolloutId: string; requester: string; startedBy?: string }
    | { variant: 'busy_change'; endpoint: string; changeId: string; requester: string; appliedBy?: string }
    | { variant: 'unknown_analysis'; name: string; known: string[] }
    | { variant: 'not_one_version'; endpoint: string; served: string[] }
    | { variant: 'already_served'; endpoint: string; servedName: string }
    | { variant: 'bad_steps'; steps: number[] }
    | { variant: 'gate_without_approvers'; gate: string };
  /** The guardrails cannot be read: a rollout never starts on figures it cannot read. */
  rollout_inference_table:
    | { variant: 'not_in_policy'; endpoint: string }
    | { variant: 'not_enabled'; endpoint: string; table: string }
    | { variant: 'elsewhere'; endpoint: string; table: string; enabledTable: string }
    | { variant: 'unreadable'; endpoint: string; table: string; warehouseMessage: Relayed }
    | { variant: 'empty'; endpoint: string; table: string; servedName: string; windowMs: number }
    | { variant: 'metric_unreadable'; table: string; column: string; warehouseMessage: Relayed };
  /** A rollout button that cannot do what it says now. */
  rollout_click:
    | { variant: 'not_found'; id: string }
    | { variant: 'not_now'; action: string; state: string; endpoint: string }
    | { variant: 'only_requester'; action: string; requester: string }
    | { variant: 'not_approver'; self: boolean; users: string[]; groups: string[] };
  /** A deploy, split or rollback of an endpoint a canary rollout holds. */
  endpoint_held_by_rollout: { endpoint: string; rolloutId: string; requester: string; startedBy?: string };
  monitor_exists: { table: string; monitor: string };
  monitor_columns_missing: { table: string; monitor: string; missing: string[]; columns: string[] };
  monitor_setup_missing: { monitor: string };
  monitor_baseline_missing: { table: string; monitor: string };
  monitor_schema_missing: { schema: string; monitor: string };
  /** A Create or Cancel click on a monitor plan that is no longer waiting for it. */
  monitor_setup_gone:
    | { variant: 'unknown' }
    | { variant: 'not_requester'; requester: string }
    | { variant: 'decided'; status: string }
    | { variant: 'expired'; ageMs: number; expiresAfterMs: number };
  scoring_not_configured: Record<string, never>;
  score_input_missing: { table: string };
  /** The output table exists and the bot did not write it (no modelgate property on it). */
  score_output_foreign: { table: string; owner?: string };
  score_same_table: { table: string };
  /** A deployment job lacks the approval (or evaluation) task the policy names. */
  deployment_task_missing: {
    model: string;
    jobId: number;
    jobName: string;
    role: 'approval' | 'evaluation';
    task: string;
    tasks: string[];
  };
  /** The database refused or dropped the connection; `cause` is the driver's code, for the log. */
  store_unavailable: { cause: string };
}

/** Why the answer to a call that changes something never arrived (its outcome had to be read). */
export type LostAnswer =
  | { kind: 'timeout' | 'connection' }
  | { kind: 'unavailable'; status: number; errorCode: string; gateway: boolean };

export type ErrorDetails<C extends ErrorCode = ErrorCode> = ErrorDetailsByCode[C];

/** An error put into words: what happened, and what to do about it. */
export interface ErrorWords {
  text: string;
  hint?: string | undefined;
}

/** Puts a UserError into words: the Slack edge's describeError, handed in through a views port. */
export type DescribeError = (e: UserError) => ErrorWords;

/**
 * Errors a user can act on. Every error that reaches Slack is either a UserError (put into words
 * by slack/blocks/errors.ts) or replaced by a short apology carrying a correlation id.
 *
 * @example throw new UserError('endpoint_not_found', { endpoint: 'churn' });
 */
export class UserError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name: string = 'UserError';
  readonly code: C;
  /** What the error is about, as data; slack/blocks/errors.ts puts it into words. */
  readonly details: ErrorDetails<C>;

  constructor(code: C, details: ErrorDetails<C>) {
    // For logs only: users see the words describeError gives at the Slack edge.
    super(`${code} ${JSON.stringify(details)}`);
    this.code = code;
    this.details = details;
  }
}

/**
 * A UserError's code and details, as data to keep (a stored failure, a nested parse error).
 *
 * @example codedOf(new UserError('no_monitors', {})) // { code: 'no_monitors', details: {} }
 */
export function codedOf(e: UserError): CodedDetails {
  return { code: e.code, details: e.details } as CodedDetails;
}

/**
 * A zod issue for an error a schema caught: a UserError travels in `params.coded`, so that whoever
 * reports the issues (commands/parse.ts) keeps its code and details and the edge words it.
 *
 * @example ctx.addIssue(issueOf(e))
 */
export function issueOf(e: unknown): { code: 'custom'; message: string; params?: { coded: CodedDetails } } {
  const message = e instanceof Error ? e.message : String(e);
  return e instanceof UserError
    ? { code: 'custom', message, params: { coded: codedOf(e) } }
    : { code: 'custom', message };
}

/** The coded error a zod issue carries (see issueOf), if any. */
export function codedOfIssue(issue: object): CodedDetails | undefined {
  const coded = (issue as { params?: { coded?: CodedDetails } }).params?.coded;
  return coded && typeof coded.code === 'string' ? coded : undefined;
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
