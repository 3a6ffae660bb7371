/**
 * The words for every error code: what happened and what to do, in the bot's voice. Adapters and
 * domain code throw coded errors that carry data; this is where they become sentences and
 * `/mlops …` hints. One entry per code (a missing one fails to compile).
 */
import { describeRule } from '../../config/access.js';
import {
  type CodedDetails,
  codedOf,
  type ErrorCode,
  type ErrorDetails,
  type ErrorWords,
  type LostAnswer,
  type UserError,
} from '../../domain/errors.js';
import { escapeOnce, slackTime } from './format.js';

type Wording = { [C in ErrorCode]: (d: ErrorDetails<C>) => ErrorWords };

const words = (text: string, hint?: string): ErrorWords => (hint === undefined ? { text } : { text, hint });

/** What to try instead when a deploy, split or rollback would leave the endpoint as it is. */
const NO_CHANGE_HINT = {
  deploy: 'Pick another version, or change size= or scale-to-zero= to redeploy with other settings.',
  split: 'Give other percentages, or check `/mlops status` for the split now.',
  rollback: 'The previous config is already live.',
} as const;

/** "acme.mlops.churn_model" → "churn_model" */
const shortName = (fullName: string): string => fullName.split('.').pop() || fullName;

/** "a, b or c" */
function either(parts: string[]): string {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

/** "45 min", "1 h", "2 h 30 min", "3 days": how long ago, roughly, for a sentence. */
function roughDuration(ms: number): string {
  const min = Math.max(1, Math.round(ms / 60_000));
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h >= 48) return `${Math.floor(h / 24)} days`;
  return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
}

const WAREHOUSE_STARTING_HINT =
  'The SQL warehouse was stopped and is starting up, which can take a few minutes. Try again shortly, or keep it running (auto-stop) while the bot is in use.';

function modelNameProblem(p: ErrorDetails<'invalid_model_name'>['problem']): string {
  switch (p.kind) {
    case 'parts':
      return `has ${p.count} part${p.count === 1 ? '' : 's'}, not three`;
    case 'empty_part':
      return 'has an empty part';
    case 'part_too_long':
      return `has a part longer than ${p.max} characters`;
    case 'part_characters':
      return `part "${p.part}" may only hold letters, digits, "_" and "-"`;
  }
}

const WORDING: Wording = {
  invalid_config: (d) => {
    switch (d.variant) {
      case 'no_versions':
        return words('A config needs at least one served model version.');
      case 'no_model_name':
        return words('A served version needs a model name.');
      case 'no_warehouse_configured':
        return words(
          'No SQL warehouse is configured.',
          'Set DATABRICKS_WAREHOUSE_ID (or DATABRICKS_HTTP_PATH) to the warehouse that can read the monitor tables.',
        );
      case 'http_path':
        return words(
          `DATABRICKS_HTTP_PATH "${d.value}" does not start with /.`,
          'Copy the HTTP path from the SQL warehouse’s Connection details, e.g. /sql/1.0/warehouses/abc123.',
        );
      case 'warehouse_id':
        return words(
          `DATABRICKS_WAREHOUSE_ID "${d.value}" is not a warehouse id.`,
          'Use the id from the warehouse URL or Connection details (letters and digits only).',
        );
      case 'host_not_url':
        return words(
          `DATABRICKS_HOST "${d.value}" is not a URL or host name.`,
          'Use the workspace URL, e.g. https://adb-123.4.azuredatabricks.net.',
        );
      case 'host_not_https':
        return words(
          `DATABRICKS_HOST "${d.value}" is not HTTPS.`,
          'SQL warehouses only speak HTTPS; use an https:// URL.',
        );
    }
  },
  too_many_versions: (d) =>
    words(
      `An endpoint can serve at most ${d.max} versions; this config has ${d.count}.`,
      'Drop the versions that get 0 % of the traffic.',
    ),
  invalid_version: (d) =>
    d.source === 'config'
      ? words(`"${d.value}" is not a model version number.`, 'Use the number shown in the registry, e.g. 3.')
      : words(`"${d.value}" is not a model version.`, 'Versions are 1, 2, 3, ...'),
  duplicate_served_name: (d) =>
    words(`Two served versions are both called "${d.servedName}".`, 'Give each served version its own name.'),
  duplicate_version: (d) =>
    words(`Version ${d.version} of ${d.model} appears twice in the config.`, 'List each model version once.'),
  invalid_traffic: (d) => {
    switch (d.variant) {
      case 'split_missing':
        return words(
          'With more than one served version the traffic split must be given.',
          `Say how to split it, e.g. ${d.servedNames.map((n) => `${n}=${Math.floor(100 / d.servedNames.length)}`).join(' ')} (adding up to 100).`,
        );
      case 'unknown_route':
        return words(
          `The traffic split names "${d.servedName}", which is not a served version of this config.`,
          `Route traffic only to: ${d.servedNames.join(', ')}.`,
        );
      case 'two_routes':
        return words(`"${d.servedName}" has two traffic routes.`, 'Give it one route.');
      case 'bad_percent':
        return words(`${d.percent} % for "${d.servedName}" is not a whole percentage between 0 and 100.`);
      case 'total':
        return words(
          `The traffic split adds up to ${d.total} %, not 100 %.`,
          'Adjust the percentages so they add up to exactly 100.',
        );
    }
  },
  invalid_name: (d) =>
    words(`"${d.name}" is not a valid ${d.what} name.`, 'Use 1–63 letters, digits, "-" or "_".'),
  invalid_inference_table: (d) =>
    d.variant === 'missing_part'
      ? words(`The inference table needs a ${d.part}.`)
      : words(`"${d.prefix}" is not a valid table name prefix.`, 'Use 1–63 letters, digits or "_".'),
  endpoint_not_found: (d) =>
    words(
      `No serving endpoint called "${d.endpoint}".${d.suggestion ? ` Did you mean ${d.suggestion}?` : ''}`,
      'Run `/mlops status` to list the endpoints, or check the spelling.',
    ),
  rollout_in_progress: (d) =>
    words(
      `A rollout is already in progress on ${d.endpoint}.`,
      `Wait for it to finish (\`/mlops status ${d.endpoint}\`), then try again.`,
    ),
  permission_denied: (d) =>
    words(
      `Databricks refused to ${d.action} ${d.endpoint}: ${d.databricksMessage}`,
      'The bot’s principal needs CAN MANAGE (or CAN QUERY for queries) on the endpoint.',
    ),
  serving_rejected: (d) =>
    words(
      `Databricks refused to ${d.action} ${d.endpoint}: ${d.databricksMessage}`,
      'Fix the request and try again.',
    ),
  endpoint_exists: (d) =>
    words(
      `An endpoint called "${d.endpoint}" already exists with a different config.`,
      `Pick another name, or change it with \`/mlops deploy ${d.endpoint} …\`.`,
    ),
  create_outcome_unknown: (d) =>
    words(
      `Lost the answer while creating endpoint "${d.endpoint}" (${d.transportMessage}); it may or may not exist now.`,
      `Check with \`/mlops status ${d.endpoint}\`, or simply retry: an identical endpoint is recognised.`,
    ),
  model_not_found: (d) =>
    d.variant === 'create'
      ? words(`Databricks refused to create ${d.endpoint}: ${d.databricksMessage}`)
      : words(
          `There is no model called ${d.model}.${d.suggestion ? ` Did you mean ${d.suggestion}?` : ''}`,
          'Check the name (catalog.schema.model) and that the bot has USE CATALOG, USE SCHEMA and EXECUTE on it.',
        ),
  payload_too_large: (d) =>
    words(
      `The query is ${(d.bytes / 1024 / 1024).toFixed(1)} MB; Model Serving accepts at most ${d.maxBytes / 1024 / 1024} MB.`,
      'Send fewer records per query.',
    ),
  endpoint_not_ready: (d) =>
    words(
      `Endpoint ${d.endpoint} is not ready to answer queries: ${d.databricksMessage}`,
      `Check its state with \`/mlops status ${d.endpoint}\` and try again once it is READY.`,
    ),
  inference_table_already_enabled: (d) =>
    words(
      `Endpoint ${d.endpoint} already logs to another inference table.`,
      'Disable the inference table first, then enable it with the new location.',
    ),
  rollout_watch_failed: (d) =>
    words(
      `Lost track of the rollout on ${d.endpoint}: ${d.causeMessage}`,
      `The rollout may still be going on; check with \`/mlops status ${d.endpoint}\`.`,
    ),
  version_not_ready: (d) =>
    words(
      `Version ${d.version} of ${d.model} is ${d.status}, not READY.`,
      d.status === 'PENDING_REGISTRATION'
        ? 'Its files are still uploading; wait a minute and try again.'
        : d.status === 'FAILED_REGISTRATION'
          ? 'Its registration failed and it can never be served; register a new version.'
          : 'Only READY versions can be deployed or aliased; check the version in Catalog Explorer.',
    ),
  version_not_found: (d) =>
    words(
      `${d.model} has no version ${d.version}.`,
      d.suggestListing ? `Run \`/mlops versions ${d.model}\` to see its versions.` : undefined,
    ),
  alias_not_found: (d) =>
    words(`${d.model} has no alias "${d.alias}".`, `Run \`/mlops versions ${d.model}\` to see its aliases.`),
  alias_permission_denied: (d) =>
    words(
      `The workspace refused to change aliases of ${d.model}: ${d.databricksMessage}`,
      'Only the model owner or a metastore admin can set or delete aliases; make the bot principal (or its group) the owner.',
    ),
  invalid_model_name: (d) =>
    words(
      `"${d.input}" is not a Unity Catalog model name: it ${modelNameProblem(d.problem)}.`,
      'Write it as catalog.schema.model, e.g. acme.mlops.churn_model.',
    ),
  invalid_alias_name: (d) =>
    words(
      d.reserved
        ? `"${d.alias}" is reserved and cannot be used as an alias.`
        : `"${d.alias}" is not a valid alias name.`,
      'Use letters, digits and underscores, starting with a letter, e.g. Champion or Challenger.',
    ),
  run_not_found: (d) =>
    words(
      `There is no job run ${d.runId}.`,
      'Check the run id; runs older than 60 days are removed by Databricks.',
    ),
  job_not_found: (d) =>
    words(
      `There is no job ${d.jobId} in this workspace.`,
      d.source === 'retraining'
        ? 'Check the job id in the policy file (retraining or the monitor’s retrainJob), and that the bot principal has CAN MANAGE RUN on the job.'
        : 'Check the job id in the policy file, and that the bot principal has CAN MANAGE RUN on the job.',
    ),
  invalid_table_name: (d) =>
    words(
      `"${d.table}" is not a Unity Catalog table name.`,
      'Write it as catalog.schema.table, e.g. acme.mlops.churn_inference.',
    ),
  monitor_not_ready: (d) =>
    words(
      `The monitor on ${d.table} has no metric tables yet (status ${d.status ?? 'unknown'}).`,
      'A new monitor creates its tables on its first refresh; try again in a few minutes.',
    ),
  table_not_found: (d) =>
    words(
      `There is no table called ${d.table}.`,
      'Check the monitored table in the policy file and that the bot can USE its catalog and schema.',
    ),
  monitor_not_found: (d) =>
    words(
      `${d.table} has no data-profiling monitor.`,
      'Create an InferenceLog monitor on it in Catalog Explorer (Quality tab), or fix the table in the policy file.',
    ),
  refresh_not_found: (d) =>
    words(
      `The monitor on ${d.table} has no refresh ${d.refreshId}.`,
      'Only the last refreshes are kept; start a new one if needed.',
    ),
  sql_error: (d) =>
    d.variant === 'statement'
      ? words(
          d.warehouseMessage,
          'Check the table and column names in the query; the SQLSTATE and error class say what the warehouse rejected.',
        )
      : words(
          d.driverMessage || 'The SQL warehouse rejected the request.',
          'Check the query and the warehouse state.',
        ),
  auth: (d) =>
    d.variant === 'token_provider'
      ? words(
          `Could not get a Databricks token: ${d.causeMessage}`,
          'Check DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET for the service principal.',
        )
      : words(
          `The SQL warehouse refused the token (HTTP ${d.status}).`,
          'Check that the token (or service principal) is valid and has CAN USE on the warehouse.',
        ),
  timeout: (d) => {
    switch (d.variant) {
      case 'statement_timeout':
        return words(
          `The query ran past the warehouse's statement timeout: ${d.warehouseMessage}`,
          'Narrow the query (fewer windows or columns), or raise the statement timeout in the configuration.',
        );
      case 'deadline':
        return words(
          `The query took longer than ${d.seconds} s and was cancelled.`,
          'Narrow the query (fewer windows or columns) or allow it more time.',
        );
      case 'no_answer':
        return words(
          'The SQL warehouse did not answer in time.',
          'Try again; if it keeps happening, check the warehouse.',
        );
    }
  },
  cancelled: (d) =>
    d.variant === 'on_warehouse'
      ? words('The query was cancelled on the SQL warehouse.', 'Run it again.')
      : words('The query was cancelled.', 'Run it again when needed.'),
  warehouse_starting: () => words('The SQL warehouse is starting up.', WAREHOUSE_STARTING_HINT),
  connection: (d) => {
    switch (d.variant) {
      case 'no_warehouse_at':
        return words(
          `No SQL warehouse answers at ${d.httpPath} (HTTP 404).`,
          'Check DATABRICKS_WAREHOUSE_ID (or DATABRICKS_HTTP_PATH) against the warehouse’s Connection details.',
        );
      case 'http_status':
        return words(
          `The SQL warehouse answered HTTP ${d.status}.`,
          'The warehouse or its gateway is having trouble; try again in a minute.',
        );
      case 'unreachable':
        return words(
          `Could not reach the SQL warehouse: ${d.causeMessage}`,
          'Check DATABRICKS_HOST and the network path to the workspace.',
        );
      case 'closed':
        return words('The SQL warehouse client is closed.', 'This is a bug: a query ran after shutdown.');
    }
  },
  row_invalid: (d) =>
    words(
      `Row ${d.row} from the warehouse does not have the expected shape: ${d.path || '(row)'} ${d.issue}`.trim(),
      'The table’s columns may have changed; compare DESCRIBE TABLE with the query’s row schema.',
    ),
  invalid_identifier: (d) =>
    d.variant === 'table'
      ? words(
          `"${d.name}" is not a three-part table name.`,
          'Write tables as catalog.schema.table, for example acme.mlops.churn_inference_profile_metrics.',
        )
      : words(
          `"${d.name}" is not a valid ${d.what}.`,
          'Use letters, digits and underscores, or wrap a part in backticks (no backticks or dots inside).',
        ),
  invalid_parameter: (d) => {
    switch (d.variant) {
      case 'name':
        return words(
          `"${d.name}" is not a valid parameter name.`,
          'Name parameters with letters, digits and underscores, and write them as :name in the SQL.',
        );
      case 'not_finite':
        return words(`Parameter :${d.name} is ${d.value}.`, 'Pass a finite number, or null.');
      case 'invalid_date':
        return words(`Parameter :${d.name} is an invalid Date.`, 'Pass a valid Date, or null.');
      case 'unsupported_type':
        return words(
          `Parameter :${d.name} has an unsupported type.`,
          'Bind strings, numbers, booleans, Dates or sqlDate().',
        );
      case 'date_text':
        return words(`"${d.value}" is not a date (yyyy-mm-dd).`, 'Pass a Date or a yyyy-mm-dd string.');
    }
  },
  chart_unavailable: (d) => {
    switch (d.variant) {
      case 'unreachable':
        return words(
          `QuickChart at ${d.host} did not answer (${d.causeMessage}).`,
          'Check that the QuickChart host is reachable from the bot, or set charts.renderer: local.',
        );
      case 'http':
        return words(
          `QuickChart at ${d.host} answered HTTP ${d.status}${d.serviceMessage ? `: ${d.serviceMessage}` : ''}.`,
          'Check the QuickChart host, or set charts.renderer: local.',
        );
      case 'no_short_url':
        return words(
          'QuickChart did not return a short URL.',
          'Try again later, or set charts.renderer: local.',
        );
    }
  },
  directory_missing_scope: () =>
    words(
      'The bot cannot read Slack user groups: the app lacks the usergroups:read scope.',
      'An admin must add usergroups:read under OAuth & Permissions (manifest.yml lists it) and reinstall the app.',
    ),
  directory_auth: (d) =>
    words(
      `Slack refused the bot token (${d.slackError}) while reading user groups.`,
      'An admin should check SLACK_BOT_TOKEN with `npm run doctor`.',
    ),
  directory_unavailable: () =>
    words(
      'This Slack workspace has no user groups (they need a paid plan).',
      'An admin can list member ids under `users:` in the policy instead of `groups:`.',
    ),
  directory_rate_limited: () =>
    words('Slack is rate-limiting user group lookups right now.', 'Try again in a minute.'),
  directory_unreachable: () =>
    words('Slack could not be reached to check your user groups.', 'Try again in a moment.'),
  directory_failed: (d) =>
    words(
      `Slack answered ${d.slackError ?? 'with an error'} when asked for user groups.`,
      'Try again; if it persists, an admin can run `npm run doctor`.',
    ),
  channel_not_allowed: (d) =>
    d.variant === 'access'
      ? words(
          `modelgate answers only in ${either(d.channels.map((c) => `<#${c}>`))}.`,
          'Run the command there, or ask an admin to add this channel to `channels` in the policy file.',
        )
      : words(
          'modelgate does not act on approvals in this channel.',
          d.approvalChannel
            ? `Approve or reject in <#${d.approvalChannel}>.`
            : 'Use the request message in the channel it was posted in.',
        ),
  not_allowed: (d) => {
    switch (d.variant) {
      case 'nobody':
        return words(
          `Nobody may ${d.subcommand} here: the policy ${d.ruleExists ? 'gives that right to no one' : `has no \`access.${d.subcommand}\` rule`}.`,
          `An admin can add people or groups to \`access.${d.subcommand}\` in the policy file.`,
        );
      case 'not_in_rule':
        return words(
          `Only ${describeRule(d.rule)} may ${d.subcommand}.`,
          `Ask one of them to run it, or ask an admin to add you to \`access.${d.subcommand}\` in the policy file.`,
        );
      case 'protected': {
        const hasAnyone = d.allow.everyone || d.allow.users.length > 0 || d.allow.groups.length > 0;
        const who = hasAnyone ? `only ${describeRule(d.allow)} may` : 'nobody may';
        return words(
          `${d.endpoint} is protected: ${who} change it.`,
          `Ask one of them to run it, or ask an admin to add you to the \`allow\` list of ${d.endpoint} under \`protectedEndpoints\`.`,
        );
      }
    }
  },
  unknown_alert: () =>
    words('The bot does not know this alert any more.', 'Run /mlops drift to check the monitor now.'),
  alert_closed: (d) =>
    words(
      `This alert is closed${d.closedAt !== undefined ? ` (since ${slackTime(d.closedAt)})` : ''}: ${d.monitor} · ${d.rule} holds again. Nothing was changed.`,
      'A new violation opens a new alert.',
    ),
  alert_already_acknowledged: (d) =>
    words(
      `Already acknowledged by <@${d.by}>${d.at !== undefined ? ` ${slackTime(d.at)}` : ''}: ${d.monitor} · ${d.rule} has someone on it. Nothing was changed.`,
    ),
  alert_already_snoozed: (d) =>
    words(
      `Already snoozed${d.by ? ` by <@${d.by}>` : ''} until ${slackTime(d.until)}: ${d.monitor} · ${d.rule} posts nothing new until then. Nothing was changed.`,
    ),
  retrain_unavailable: () =>
    words(
      'Retraining requests are not available on this bot.',
      'They go through the approvals service; ask whoever runs modelgate to enable it.',
    ),
  not_a_responder: (d) => {
    const key = `\`monitors.${d.monitor}.responders\``;
    if (d.source === 'none') {
      return words(
        `Nobody may ${d.action} alerts of ${d.monitor}: the policy names no responders for it (${key}), and has no \`retrain\` gate whose approvers would stand in.`,
        `An admin can list who may under ${key} in the policy file. Nothing was changed.`,
      );
    }
    const from = d.source === 'monitor' ? key : `the approvers of the \`retrain\` gate (${key} is not set)`;
    return words(
      `Only ${describeRule(d.rule)} may ${d.action} alerts of ${d.monitor}: the right comes from ${from}. Nothing was changed.`,
      `Ask one of them, or ask an admin to add you to ${key} in the policy file.`,
    );
  },
  bad_input: (d) =>
    words(d.problems.map((p) => (typeof p === 'string' ? p : wordsOfCoded(p).text)).join(' '), d.hint),
  no_change: (d) =>
    d.variant === 'alias'
      ? words(
          `${d.alias} of ${d.model} already points at version ${d.version}; nothing to change.`,
          `Run \`/mlops models ${shortName(d.model)}\` to see the versions and their aliases.`,
        )
      : words(`${d.endpoint} already serves ${d.traffic}; nothing to change.`, NO_CHANGE_HINT[d.subcommand]),
  no_history: (d) =>
    words(
      `The bot has no earlier config of ${d.endpoint} to roll back to.`,
      'Rollback restores what the bot changed. Use `/mlops deploy` or `/mlops split` to set the config you want.',
    ),
  no_live_config: (d) =>
    words(
      `${d.endpoint} has no live config yet, so there is nothing to split.`,
      `Deploy a version first: \`/mlops deploy <model> <version> to ${d.endpoint}\`.`,
    ),
  nothing_served: (d) =>
    words(
      `${d.endpoint} serves no version of ${d.model}, so monitor ${d.monitor} has no model id to watch.`,
      `Deploy a version of ${d.model} there, or list the model ids (e.g. ["*"]) under modelIds.`,
    ),
  several_models: (d) =>
    words(
      `${d.endpoint} serves several models (${d.models.map(shortName).join(', ')}), so a version number alone is ambiguous.`,
      'Change this endpoint in the Databricks UI, or deploy one model to it first.',
    ),
  plan_check_failed: (d) =>
    d.stage === 'apply'
      ? words(
          `Could not check the plan against Databricks before applying it: ${d.reason} Nothing was changed.`,
          d.hint ? `${d.hint} Then press Apply again.` : 'Press Apply again in a minute.',
        )
      : words(
          `Could not check the request against Databricks: ${d.reason} Your approval was not recorded.`,
          d.hint ? `${d.hint} Then press Approve again.` : 'Press Approve again in a minute.',
        ),
  gate_missing: (d) =>
    words(
      `${d.what} needs an approval, but the policy has no \`gates.${d.gate}\` saying who approves it.`,
      `An admin can add \`gates: { ${d.gate}: { approvers: { groups: ["@…"] } } }\` to the policy file.`,
    ),
  store_unavailable: () =>
    words(
      'modelgate cannot reach its database, nothing was changed.',
      'Try again in a minute. If it keeps happening, tell whoever runs modelgate: its log says why the database is unreachable.',
    ),
  approvals_unavailable: () =>
    words(
      'Approvals are not available in this modelgate.',
      'Whoever runs modelgate can enable them; see the `gates` section of modelgate.example.yml.',
    ),
  drift_not_configured: () =>
    words(
      'Drift checks are not set up on this bot.',
      'They need monitors: in the policy file and a SQL warehouse (DATABRICKS_WAREHOUSE_ID or DATABRICKS_HTTP_PATH).',
    ),
  granularity_not_monitored: (d) =>
    words(
      `The monitor on ${d.table} writes ${d.granularities.join(', ')} windows, not ${d.granularity}.`,
      `Set granularity to one of ${d.granularities.join(', ')} for monitor ${d.monitor} in the policy file.`,
    ),
  no_monitors: () =>
    words(
      'No monitor is configured.',
      'Add one under monitors: in the policy file (see modelgate.example.yml).',
    ),
  no_retraining_job: (d) =>
    d.variant === 'monitor'
      ? words(
          `The monitor ${d.monitor} watches ${d.model}, but the policy names no job that retrains it.`,
          `Add \`retrainJob: <job id>\` to monitors.${d.monitor}, or \`retraining: { ${d.monitor}: { job: <job id> } }\`, in the policy file.`,
        )
      : words(
          `The policy names no retraining job for "${d.name}".`,
          d.known.length > 0
            ? `Retrain one of: ${d.known.join(', ')}. An admin can add \`retraining: { <model>: { job: <job id> } }\` to the policy file.`
            : 'An admin can add `retraining: { <model>: { job: <job id> } }` to the policy file.',
        ),
  no_warehouse: () =>
    words(
      'No SQL warehouse is configured, so the monitor tables cannot be read.',
      'Set DATABRICKS_WAREHOUSE_ID (or DATABRICKS_HTTP_PATH) to a warehouse the bot may use, and restart it.',
    ),
  unknown_job_parameter: (d) =>
    words(
      `Job ${d.job} (${d.jobId}) has no parameter ${d.unknown.join(', ')}.`,
      `Its parameters are ${d.declared.join(', ') || 'none'}; fix \`retraining\` in the policy file.`,
    ),
  unknown_monitor: (d) =>
    words(
      `There is no monitor called "${d.name}".`,
      d.monitors.length > 0
        ? `The monitors are ${d.monitors.join(', ')}.`
        : 'The policy file has no monitors; add one under monitors:.',
    ),
  plan_expired: (d) =>
    words(
      `This plan expired: it was made ${roughDuration(d.ageMs)} ago, and a plan is good for ${roughDuration(d.expiresAfterMs)}, so nothing was changed.`,
      `Run \`/mlops ${d.subcommand}\` again for a fresh plan of what is live now.`,
    ),
  databricks_unavailable: (d) =>
    words(
      `Databricks was unavailable (${unavailableStatus(d)})${d.attempts > 1 ? ` after ${d.attempts} attempts` : ''}.`,
      `${d.nothingChanged ? 'Nothing was changed. ' : ''}Try again in a few minutes; if it persists, check the Databricks status page.`,
    ),
  update_not_applied: (d) => {
    const lost = `The answer to the update of ${d.endpoint} was lost (${lostAnswer(d.failure)})`;
    const version = d.configVersion !== undefined ? ` (config version ${d.configVersion})` : '';
    switch (d.found) {
      case 'unchanged':
        return words(
          `${lost}, and Databricks shows it was not applied: nothing was changed.`,
          'Run the command again to make a new plan.',
        );
      case 'other_in_flight':
        return words(
          `${lost}, and another change is in flight on ${d.endpoint}${version}; the bot did not send its update again.`,
          `Wait for it to finish (\`/mlops status ${d.endpoint}\`), then make a new plan.`,
        );
      case 'other_live':
        return words(
          `${lost}, and ${d.endpoint} now serves a config the bot did not send${version}; the bot did not send its update again.`,
          `Check \`/mlops status ${d.endpoint}\`, then make a new plan.`,
        );
    }
  },
  change_outcome_unknown: (d) =>
    words(
      `The answer to the update of ${d.endpoint} was lost (${lostAnswer(d.failure)}), and Databricks could not be read afterwards: the update may or may not have been applied.`,
      `Check \`/mlops status ${d.endpoint}\` before trying again.`,
    ),
  rollout_refused: (d) => {
    switch (d.variant) {
      case 'busy_rollout':
        return words(
          `A canary rollout (${d.rolloutId}) holds ${d.endpoint}: <@${d.requester}> asked for it${d.startedBy && d.startedBy !== d.requester ? ` and <@${d.startedBy}> started it` : ''}.`,
          'Wait for it to end, or ask them to abort it from its message.',
        );
      case 'busy_change':
        return words(
          `A change (${d.changeId}) is being applied to ${d.endpoint}: <@${d.requester}> asked for it${d.appliedBy && d.appliedBy !== d.requester ? ` and <@${d.appliedBy}> applied it` : ''}.`,
          'Try again once it has finished; its message in the channel says when.',
        );
      case 'unknown_analysis':
        return words(
          `The policy has no analysis called "${d.name}".`,
          d.known.length > 0
            ? `Use one of ${either(d.known)} with analysis=, or add "${d.name}" under \`analyses\` in the policy file.`
            : 'Add an analysis under `analyses` in the policy file (guardrails, minRequests, …); see modelgate.example.yml.',
        );
      case 'not_one_version':
        return words(
          `${d.endpoint} serves ${d.served.length === 0 ? 'nothing' : `${d.served.length} versions (${d.served.join(', ')})`}; a canary starts from one version at 100%.`,
          `Serve one version first, e.g. \`/mlops split ${d.endpoint} <version>=100\`.`,
        );
      case 'already_served':
        return words(
          `${d.endpoint} already serves ${d.servedName}: there is nothing to canary.`,
          'Pick a version the endpoint does not serve yet.',
        );
      case 'bad_steps':
        return words(
          `The steps ${d.steps.join(',')} do not climb: each must be a whole percent from 1 to 100, larger than the one before.`,
          'Write e.g. steps=5,25,50,100 (100, the promotion, is added when left out).',
        );
      case 'gate_without_approvers':
        return words(
          `The gate "${d.gate}" covers this endpoint but the policy gives it no approvers.`,
          `Add approvers under \`gates.${d.gate}\` in the policy file.`,
        );
    }
  },
  rollout_inference_table: (d) => {
    switch (d.variant) {
      case 'not_in_policy':
        return words(
          `The policy does not say where ${d.endpoint} logs its requests, so a canary's guardrails cannot be read.`,
          `Add ${d.endpoint} under \`inferenceTables\` in the policy file (catalog, schema, prefix; enableOnDeploy: true turns it on at the next deploy).`,
        );
      case 'not_enabled':
        return words(
          `${d.endpoint} has no AI Gateway inference table enabled, so there are no figures to judge a canary by.`,
          `Enable it (AI Gateway → inference tables, writing to ${d.table}) or set enableOnDeploy: true for it under \`inferenceTables\` and deploy; then send it traffic.`,
        );
      case 'elsewhere':
        return words(
          `${d.endpoint} logs to ${d.enabledTable}, not to ${d.table} as the policy says.`,
          `Fix \`inferenceTables.${d.endpoint}\` in the policy file to match the endpoint's AI Gateway settings.`,
        );
      case 'unreadable':
        return words(
          `The inference table ${d.table} of ${d.endpoint} cannot be read: ${d.warehouseMessage}`,
          'Check that the table exists and that the bot may SELECT from it and from system.serving.served_entities (which names the served entities behind its ids) through the SQL warehouse; `npm run doctor` checks the warehouse.',
        );
      case 'empty':
        return words(
          `The inference table ${d.table} has no request answered by ${d.servedName} in the last ${roughDuration(d.windowMs)}, so there is no baseline to compare a canary with.`,
          'Send the endpoint traffic first (rows can take minutes to arrive, and system.serving.served_entities up to an hour to name a new served entity), then plan the rollout again.',
        );
      case 'metric_unreadable':
        return words(
          `The quality metric ${d.column} cannot be read from ${d.table}: ${d.warehouseMessage}`,
          `Check the guardrail's profileTable and column in the policy's \`analyses\` against the monitor's metric table.`,
        );
    }
  },
  rollout_click: (d) => {
    switch (d.variant) {
      case 'not_found':
        return words(`There is no rollout ${d.id}.`, 'It may belong to a bot that has since lost its store.');
      case 'not_now':
        return words(
          `The rollout on ${d.endpoint} is ${d.state.replace('_', ' ')}: it cannot ${d.action.replace('_', ' ')} now.`,
          'Its message shows where it stands and the buttons that apply.',
        );
      case 'only_requester':
        return words(`Only <@${d.requester}>, who asked for this rollout, may ${d.action} it.`);
      case 'not_approver':
        return d.self
          ? words('You asked for this rollout, so you cannot approve it: a second person must.')
          : words(
              `Only ${describeRule({ users: d.users, groups: d.groups, everyone: false })} may approve this rollout or act on it.`,
              'Ask an admin to add you to the approvers of its gate under `gates` in the policy file.',
            );
    }
  },
  endpoint_held_by_rollout: (d) =>
    words(
      `A canary rollout (${d.rolloutId}) holds ${d.endpoint}: <@${d.requester}> asked for it${d.startedBy && d.startedBy !== d.requester ? ` and <@${d.startedBy}> started it` : ''}. Nothing else may change the endpoint until it ends.`,
      'Wait for it to end, or abort it from its message.',
    ),
  monitor_exists: (d) =>
    words(
      `${d.table} already has a monitor, so nothing was created.`,
      `See it with \`/mlops monitor status ${d.monitor}\`; to change it, edit it in Catalog Explorer (Quality tab) or delete it there first.`,
    ),
  monitor_columns_missing: (d) =>
    words(
      `${d.table} has no column${d.missing.length === 1 ? '' : 's'} ${d.missing.join(', ')}, which the policy's monitors.${d.monitor}.setup names; nothing was created.`,
      `Fix monitors.${d.monitor}.setup in the policy file: the table's columns are ${d.columns.slice(0, 30).join(', ') || 'none'}.`,
    ),
  monitor_setup_missing: (d) =>
    words(
      `The policy does not say how to create monitor ${d.monitor}.`,
      `Add monitors.${d.monitor}.setup (problemType, predictionColumn, labelColumn, timestampColumn, outputSchema, …) to the policy file.`,
    ),
  monitor_baseline_missing: (d) =>
    words(
      `The baseline table ${d.table} does not exist; nothing was created.`,
      `Create it (the scored test set, as the reference does) or fix monitors.${d.monitor}.setup.baselineTable in the policy file.`,
    ),
  monitor_schema_missing: (d) =>
    words(
      `The output schema ${d.schema} does not exist; nothing was created.`,
      `Create the schema, or fix monitors.${d.monitor}.setup.outputSchema in the policy file.`,
    ),
  monitor_setup_gone: (d) => {
    switch (d.variant) {
      case 'unknown':
        return words('That monitor plan is not known here.', 'Run `/mlops monitor create <monitor>` again.');
      case 'not_requester':
        return words(`Only <@${d.requester}>, who asked for this monitor, can create or cancel it.`);
      case 'decided':
        return words(`That monitor plan is already ${d.status}.`);
      case 'expired':
        return words(
          `That plan is ${roughDuration(d.ageMs)} old; plans are good for ${roughDuration(d.expiresAfterMs)}.`,
          'Run `/mlops monitor create <monitor>` again for a fresh plan.',
        );
    }
  },
  scoring_not_configured: () =>
    words(
      'No batch-scoring job is configured.',
      'Add scoring: { job: <job id> } to the policy file: a job taking the parameters model_uri, input_table and output_table.',
    ),
  score_input_missing: (d) =>
    words(
      `There is no table called ${d.table}, so nothing was scored.`,
      'Check the name (catalog.schema.table, or a table of the default schema) and that the bot can read it.',
    ),
  score_output_foreign: (d) =>
    words(
      `${d.table} already exists and was not written by the bot${d.owner ? ` (its owner is ${d.owner})` : ''}, so it was left alone and nothing was scored.`,
      'Name another output table with `into <table>`, or leave it out to write `<input>_scored`.',
    ),
  score_same_table: (d) =>
    words(
      `${d.table} cannot be both the input and the output.`,
      'Name another output table with `into <table>`.',
    ),
  deployment_task_missing: (d) =>
    words(
      `Deployment job ${d.jobName} (${d.jobId}) of ${d.model} has no task called ${d.task}, so its ${d.role} step cannot be found; nothing was sent.`,
      `Its tasks are ${d.tasks.join(', ') || 'none'}: set \`deploymentJobs.<model>.${d.role}Task\` in the policy file to the ${d.role} task's key${d.role === 'approval' ? ' (the approval tag is named after it)' : ''}.`,
    ),
};

/** "502 from a gateway", "503 TEMPORARILY_UNAVAILABLE" */
function unavailableStatus(d: { status: number; errorCode: string; gateway: boolean }): string {
  return d.gateway ? `${d.status} from a gateway` : `${d.status} ${d.errorCode}`;
}

function lostAnswer(f: LostAnswer): string {
  switch (f.kind) {
    case 'timeout':
      return 'no answer in time';
    case 'connection':
      return 'the connection dropped';
    case 'unavailable':
      return `Databricks answered ${unavailableStatus(f)}`;
  }
}

/**
 * Every string in an error's details escaped for mrkdwn. Details hold what users typed and what
 * services sent (names, relayed messages), so none of it may come back as a live mention, broadcast
 * or link; the words around them are ours and keep their mentions (escapeKeepingLinks).
 */
function escapedDetails(value: unknown): unknown {
  if (typeof value === 'string') return escapeOnce(value);
  if (Array.isArray(value)) return value.map(escapedDetails);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapedDetails(v)]));
  }
  return value;
}

/**
 * Prose other code wrote around what a user typed (a parse problem, an earlier error's words):
 * its `<placeholder>`s stay as written, anything else that could be markup is escaped.
 *
 * @example escapedProse('"<!here>" is not a subcommand; say "to <endpoint>"') // '"&lt;!here&gt;" is not a subcommand; say "to <endpoint>"'
 */
function escapedProse(text: string): string {
  return text
    .split(/(<[A-Za-z][\w -]*>)/)
    .map((part, i) => (i % 2 === 1 ? part : escapeOnce(part)))
    .join('');
}

/** An error's details ready for its wording: data escaped, prose defused, our usage lines kept. */
function detailsForWords(coded: CodedDetails): unknown {
  switch (coded.code) {
    case 'bad_input':
      // Nested coded problems are escaped when they are worded in turn.
      return {
        problems: coded.details.problems.map((p) => (typeof p === 'string' ? escapedProse(p) : p)),
        hint: coded.details.hint,
      };
    case 'plan_check_failed': {
      const { hint, ...rest } = coded.details;
      return { ...rest, reason: escapedProse(rest.reason), ...(hint ? { hint: escapedProse(hint) } : {}) };
    }
    default:
      return escapedDetails(coded.details);
  }
}

/**
 * What a UserError says to a user: its sentence and, when there is one, a hint saying what to do.
 * The words are mrkdwn-safe: every detail in them is escaped, so a name typed as `<!channel>`
 * shows as text (render them with escapeKeepingLinks, which leaves the escapes as they are).
 *
 * @example describeError(new UserError('endpoint_not_found', { endpoint: 'churn' }))
 * // { text: 'No serving endpoint called "churn".', hint: 'Run `/mlops status` to list the endpoints, or check the spelling.' }
 */
export function describeError(e: UserError): ErrorWords {
  return wordsOfCoded(codedOf(e));
}

/**
 * The words for a coded error kept as data (a stored failure, a nested parse error; see codedOf).
 *
 * @example wordsOfCoded({ code: 'endpoint_not_found', details: { endpoint: 'churn' } }).text // 'No serving endpoint called "churn".'
 */
export function wordsOfCoded(coded: CodedDetails): ErrorWords {
  return (WORDING[coded.code] as (d: unknown) => ErrorWords)(detailsForWords(coded));
}
