/**
 * `npm run doctor`: checks a configuration the way a new user needs it checked. The environment
 * and the policy file (every problem at once), the Slack token and its scopes, the user groups the
 * policy names, Databricks reachability with these credentials, every endpoint and model the policy
 * names, and the drift watch: the SQL warehouse answers a parameterised query, and each monitor's
 * metric tables can be found and read through it and its retraining job exists. One line per check;
 * each failure says how to fix it; exit code 1 if any failed. With nothing configured it checks the
 * local twins the sandbox would use (workspace, SQL warehouse over the demo tables, Slack).
 */

import { accessSync, constants, existsSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { webApi } from '@slack/bolt';
import { SLASH_COMMANDS } from '../commands/index.js';
import { describeRule } from '../config/access.js';
import { ConfigError, type DatabricksConnection } from '../config/databricks-connection.js';
import { type AppConfig, describeConfig, displayPath } from '../config/env.js';
import { type LoadOptions, loadConfig } from '../config/load.js';
import { groupRefsIn, type Policy, policyTargets } from '../config/policy.js';
import { createTokenProvider, OAuthError, type TokenProvider } from '../databricks/auth.js';
import { createDeploymentJobsClient } from '../databricks/deployment-jobs.js';
import { createDatabricksHttp, DatabricksApiError, DatabricksTransportError } from '../databricks/http.js';
import { createJobSettingsReader } from '../databricks/job-settings.js';
import { createMonitorsClient } from '../databricks/monitors.js';
import { createRegistryClient } from '../databricks/registry.js';
import { createServingClient } from '../databricks/serving.js';
import { createDatabricksWarehouse, warehouseHttpPath } from '../databricks/warehouse.js';
import { hasCode, isUserError } from '../domain/errors.js';
import type { DeploymentJobs } from '../domain/ports/deployment-jobs.js';
import type { Registry } from '../domain/ports/registry.js';
import type { Serving } from '../domain/ports/serving.js';
import type { Warehouse } from '../domain/ports/warehouse.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { startSlackTwin } from '../sandbox/slack/start-slack-twin.js';
import { startDatabricksTwins } from '../sandbox/start.js';
import { describeError } from '../slack/blocks/errors.js';
import { createDirectory, type UsergroupsClient } from '../slack/directory.js';
import { BOT_SCOPES } from '../slack/scopes.js';
import { databaseChecks } from './checks/database.js';
import { deploymentJobChecks } from './checks/deployment-jobs.js';
import { type DoctorWarehouse, type DriftCheckDeps, driftWatchChecks } from './checks/drift.js';
import { outboxCheck } from './checks/outbox.js';
import { type CheckResult, type CheckStatus, fail, formatResults, ok, plural, skip } from './report.js';

export type { CheckResult, CheckStatus, DoctorWarehouse };
export { formatResults };

/** The Slack calls the doctor makes; Bolt's WebClient satisfies it. */
export interface DoctorSlackClient extends UsergroupsClient {
  auth: {
    test(): Promise<{
      team?: string;
      team_id?: string;
      user?: string;
      user_id?: string;
      bot_id?: string;
      response_metadata?: { scopes?: string[] };
    }>;
  };
}

/** Opens a Socket Mode connection URL without connecting: proves the app-level token works. */
export interface DoctorSocketClient {
  apps: { connections: { open(): Promise<{ url?: string }> } };
}

/** The doctor's clients: Slack, Databricks REST, and what the drift checks read through. */
export interface DoctorDeps extends DriftCheckDeps {
  slack: DoctorSlackClient;
  /** Only in Socket Mode: a client holding the app-level token. */
  socket?: DoctorSocketClient;
  serving: Pick<Serving, 'list' | 'get'>;
  registry: Pick<Registry, 'getModel'>;
  /** Where the Databricks checks go, for messages. */
  databricks: Pick<DatabricksConnection, 'host' | 'auth' | 'source'>;
  clock?: Clock;
  /** Deployment jobs' tasks (checks/deployment-jobs.ts). */
  deploymentJobs?: Pick<DeploymentJobs, 'getJob'>;
}

const slackErrorOf = (e: unknown): string | undefined => {
  const data = (e as { data?: { error?: unknown } }).data;
  return typeof data?.error === 'string' ? data.error : undefined;
};

/**
 * Checks the environment and the policy file. Gives the parsed config when both are valid.
 *
 * @example const { results, config, policy } = checkConfiguration(process.env);
 */
export function checkConfiguration(
  env: Record<string, string | undefined>,
  options: LoadOptions = {},
): { results: CheckResult[]; config?: AppConfig; policy?: Policy } {
  try {
    const { config, policy } = loadConfig(env, options);
    const rules = Object.values(policy.access).filter(Boolean).length;
    const results: CheckResult[] = [];
    if (config.slack.mode === 'sandbox') {
      results.push({
        status: 'info',
        name: 'Mode',
        detail:
          'no Slack variable is set, so modelgate would run in sandbox mode: checking the local twins it would use',
      });
    }
    results.push(ok('Environment', describeConfig(config)));
    results.push(
      ok(
        'Policy',
        `${displayPath(config.policyPath)}: ${plural(rules, 'access rule')}, ${plural(policy.protectedEndpoints.length, 'protected endpoint')}, ${
          policy.channels
            ? `answers in ${plural(policy.channels.length, 'channel')}`
            : 'answers in every channel'
        }`,
      ),
    );
    return { results, config, policy };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return {
      results: e.issues.map((i) => {
        const line = (i as { line?: number }).line;
        return fail(i.key, `${i.problem}${line !== undefined ? ` (line ${line})` : ''}`, i.fix);
      }),
    };
  }
}

function slackAuthFailure(e: unknown, config: AppConfig): CheckResult {
  const error = slackErrorOf(e);
  const name = 'Slack token';
  if (error === 'invalid_auth' || error === 'not_authed') {
    return fail(
      name,
      `Slack refused SLACK_BOT_TOKEN (${error})`,
      'copy the Bot User OAuth Token (xoxb-…) again from OAuth & Permissions; reinstall the app if it was regenerated',
    );
  }
  if (error === 'token_revoked' || error === 'account_inactive' || error === 'token_expired') {
    return fail(
      name,
      `the bot token no longer works (${error})`,
      'reinstall the app to the workspace and update SLACK_BOT_TOKEN',
    );
  }
  const where =
    config.slack.mode !== 'sandbox' && config.slack.apiUrl ? config.slack.apiUrl : 'https://slack.com/api/';
  if (error)
    return fail(name, `Slack answered ${error} to auth.test`, 'check SLACK_BOT_TOKEN and SLACK_API_URL');
  return fail(
    name,
    `Slack could not be reached at ${where} (${(e as Error).message.split('\n')[0]})`,
    'check the network, any proxy (HTTPS_PROXY with NODE_USE_ENV_PROXY=1), and SLACK_API_URL if set',
  );
}

function databricksFailure(e: unknown, deps: DoctorDeps): CheckResult {
  const { host, auth, source } = deps.databricks;
  const name = 'Databricks';
  const credentialFix =
    auth.kind === 'pat'
      ? `the token from ${source} is wrong or expired: create a new personal access token (Settings → Developer → Access tokens) and set DATABRICKS_TOKEN`
      : `check DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (from ${source}): the service principal's OAuth secret may be wrong or expired`;
  if (e instanceof OAuthError) {
    return e.status === undefined
      ? fail(
          name,
          `cannot reach ${host} to get an OAuth token`,
          'check DATABRICKS_HOST and the network or proxy',
        )
      : fail(name, `${host} refused the OAuth client credentials (HTTP ${e.status})`, credentialFix);
  }
  if (e instanceof DatabricksApiError) {
    if (e.status === 401)
      return fail(name, `${host} refused the credentials (HTTP 401 Unauthorized)`, credentialFix);
    if (e.status === 403) {
      return fail(
        name,
        `${host} accepted the credentials but refused to list serving endpoints (HTTP 403: ${e.message})`,
        'give the principal workspace access and CAN VIEW on the serving endpoints; check the workspace IP access list',
      );
    }
    if (e.status === 404) {
      return fail(
        name,
        `${host} has no serving endpoints API (HTTP 404)`,
        'set DATABRICKS_HOST to the workspace URL (e.g. https://adb-123.4.azuredatabricks.net), not the account console',
      );
    }
    return fail(
      name,
      `${host} answered HTTP ${e.status} (${e.errorCode})`,
      'try again later; if it persists, check the workspace status page',
    );
  }
  if (e instanceof DatabricksTransportError) {
    return fail(
      name,
      `cannot reach ${host} (${e.kind === 'timeout' ? 'no answer in time' : e.kind === 'connection' ? 'connection failed' : 'not a Databricks answer'})`,
      'check DATABRICKS_HOST (the workspace URL) and the network or proxy',
    );
  }
  return fail(name, `unexpected failure: ${(e as Error).message}`, 'run again; report it if it persists');
}

/**
 * Runs the connection checks for a valid configuration and policy. Never throws for a failed
 * check: each becomes a `fail` line with its fix.
 *
 * @example const deps = createDoctorDeps(targets); const results = await runDoctor(config, policy, deps); await deps.close();
 */
export async function runDoctor(config: AppConfig, policy: Policy, deps: DoctorDeps): Promise<CheckResult[]> {
  const results: CheckResult[] = [];

  // Slack: the token, its scopes, the app-level token, the groups the policy names.
  let slackOk = false;
  try {
    const auth = await deps.slack.auth.test();
    slackOk = true;
    results.push(
      ok(
        'Slack token',
        `signed in to ${auth.team ?? auth.team_id ?? 'the workspace'} as @${auth.user ?? auth.user_id} (bot ${auth.bot_id ?? '?'})`,
      ),
    );
    const granted = auth.response_metadata?.scopes;
    if (granted) {
      const missing = BOT_SCOPES.filter((s) => !granted.includes(s));
      results.push(
        missing.length === 0
          ? ok('Slack scopes', `granted: ${BOT_SCOPES.join(', ')}`)
          : fail(
              'Slack scopes',
              `missing ${missing.join(', ')}`,
              'add them under OAuth & Permissions → Bot Token Scopes (manifest.yml lists them all), then reinstall the app',
            ),
      );
    } else {
      results.push(skip('Slack scopes', 'Slack did not say which scopes the token has'));
    }
  } catch (e) {
    results.push(slackAuthFailure(e, config));
  }
  if (config.slack.mode === 'http') {
    results.push({
      status: 'info',
      name: 'Slack signing secret',
      detail: `set; only Slack's own requests can prove it right: if every ${SLASH_COMMANDS[0]} fails, look for 401s in the log and copy it again`,
    });
  }
  if (deps.socket) {
    try {
      await deps.socket.apps.connections.open();
      results.push(ok('Slack app-level token', 'Socket Mode connections can be opened'));
    } catch (e) {
      results.push(
        fail(
          'Slack app-level token',
          `Slack refused SLACK_APP_TOKEN (${slackErrorOf(e) ?? 'unreachable'})`,
          'generate an app-level token with connections:write under Basic Information → App-Level Tokens, and turn Socket Mode on',
        ),
      );
    }
  }
  const refs = groupRefsIn(policy);
  if (refs.length > 0) {
    if (!slackOk) {
      results.push(skip('Slack user groups', 'needs a working Slack token'));
    } else {
      try {
        const unknown = await createDirectory(deps.slack, deps.clock ?? systemClock, 0, {
          refs,
        }).unknownRefs();
        results.push(
          unknown.length === 0
            ? ok('Slack user groups', `found ${refs.join(', ')}`)
            : fail(
                'Slack user groups',
                `no user group ${unknown.join(', ')} in this workspace`,
                'check the handle under People → User groups (write it with its @, in quotes) or use the group id S…',
              ),
        );
      } catch (e) {
        results.push(
          fail(
            'Slack user groups',
            isUserError(e) ? describeError(e).text : 'could not list user groups',
            (isUserError(e) && describeError(e).hint) || 'run again',
          ),
        );
      }
    }
  }

  // Databricks: reachable with these credentials, then every endpoint and model the policy names.
  let databricksOk = false;
  try {
    const endpoints = await deps.serving.list();
    databricksOk = true;
    results.push(
      ok(
        'Databricks',
        `${deps.databricks.host} answers with ${deps.databricks.source} (${plural(endpoints.length, 'serving endpoint')})`,
      ),
    );
  } catch (e) {
    results.push(databricksFailure(e, deps));
  }
  const targets = policyTargets(policy);
  for (const endpoint of targets.endpoints) {
    const name = `Endpoint ${endpoint}`;
    if (!databricksOk) {
      results.push(skip(name, 'needs Databricks to be reachable'));
      continue;
    }
    try {
      const ep = await deps.serving.get(endpoint);
      const serving = ep.current?.servedVersions.map((v) => `${v.modelName} v${v.modelVersion}`).join(', ');
      results.push(
        ok(name, `exists (${ep.ready ? 'ready' : 'not ready'}${serving ? `, serving ${serving}` : ''})`),
      );
    } catch (e) {
      const missing = hasCode(e, 'endpoint_not_found');
      const where = [
        policy.defaults.endpoint === endpoint ? 'defaults.endpoint' : undefined,
        policy.protectedEndpoints.some((p) => p.name === endpoint) ? 'protectedEndpoints' : undefined,
      ]
        .filter(Boolean)
        .join(' and ');
      results.push(
        missing
          ? fail(
              name,
              `not found in ${deps.databricks.host}`,
              `fix the name under ${where} in ${displayPath(config.policyPath)}, or create it: ${SLASH_COMMANDS[0]} deploy <model> <version> to ${endpoint}`,
            )
          : fail(
              name,
              isUserError(e) ? describeError(e).text : 'could not be read',
              (isUserError(e) && describeError(e).hint) || 'run again',
            ),
      );
    }
  }
  for (const model of targets.models) {
    const name = `Model ${model}`;
    if (!databricksOk) {
      results.push(skip(name, 'needs Databricks to be reachable'));
      continue;
    }
    try {
      const info = await deps.registry.getModel(model);
      results.push(ok(name, `exists (${plural(info.aliases.length, 'alias')})`));
    } catch (e) {
      results.push(
        fail(
          name,
          isUserError(e) ? describeError(e).text : 'could not be read',
          (isUserError(e) && describeError(e).hint) || 'run again',
        ),
      );
    }
  }

  results.push(...(await driftWatchChecks(config, policy, deps, databricksOk)));
  results.push(...(await deploymentJobChecks(policy, deps, databricksOk)));

  // Access rules that can never let anyone in are legal but almost always a mistake.
  for (const [subcommand, rule] of Object.entries(policy.access)) {
    if (rule && describeRule(rule) === 'nobody') {
      results.push(
        fail(
          `Policy access.${subcommand}`,
          'lets nobody in',
          `add users or groups, or remove the rule (${displayPath(config.policyPath)})`,
        ),
      );
    }
  }

  if (config.database.kind === 'sqlite') results.push(storeCheck(config.dbPath));
  // Reachable, migrated, and which replica leads the scheduled jobs.
  results.push(...(await databaseChecks(config.database, Date.now())));
  // Messages the bot still owes Slack, when a store with an outbox exists.
  const outbox = await outboxCheck(config.database, Date.now());
  if (outbox) results.push(outbox);
  return results;
}

/** The change store's directory exists and is writable, or can be created. */
function storeCheck(dbPath: string): CheckResult {
  if (dbPath === ':memory:') return ok('Change store', 'in memory (nothing survives a restart)');
  let dir = dirname(resolve(dbPath));
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
    return ok('Change store', `${dbPath}${existsSync(dbPath) ? '' : ' (created at first start)'}`);
  } catch {
    return fail(
      'Change store',
      `cannot write under ${dir}`,
      'set MODELGATE_DB to a path in a writable directory (a persistent volume in production)',
    );
  }
}

/** Where the checks go: tokens and addresses, real ones or the twins'. */
export interface DoctorTargets {
  slack: { botToken: string; apiUrl?: string; appToken?: string };
  databricks: DatabricksConnection;
  /**
   * The drift watch's SQL warehouse, when one is configured: the workspace host with the
   * warehouse id or HTTP path as the environment gives them (or the sandbox twin's, with its CA).
   */
  warehouse?: { host: string; warehouseId?: string; httpPath?: string; ca?: string; source?: string };
}

/** A doctor answers fast: the warehouse gets this long per query, sessions included. */
const WAREHOUSE_TIMEOUT_MS = 20_000;

/** The production warehouse adapter with the doctor's deadlines, and how to close it. */
function doctorWarehouse(
  target: NonNullable<DoctorTargets['warehouse']>,
  tokens: TokenProvider,
): { warehouse: DoctorWarehouse; close(): Promise<void> } {
  const source = target.source ? { source: target.source } : {};
  let httpPath: string;
  let adapter: Warehouse;
  try {
    httpPath = warehouseHttpPath({
      DATABRICKS_WAREHOUSE_ID: target.warehouseId,
      DATABRICKS_HTTP_PATH: target.httpPath,
    });
    adapter = createDatabricksWarehouse({
      host: target.host,
      httpPath,
      tokens,
      ...(target.ca ? { ca: target.ca } : {}),
      statementTimeoutSeconds: 30,
    });
  } catch (e) {
    if (!isUserError(e)) throw e;
    // A warehouse that cannot even be set up (an http:// host, a malformed id) fails its check with
    // the reason, like one that does not answer.
    return {
      warehouse: { at: target.host, ...source, query: () => Promise.reject(e) },
      close: async () => {},
    };
  }
  return {
    warehouse: {
      at: `${target.host.replace(/\/+$/, '')}${httpPath}`,
      ...source,
      query: (sql, params, rowSchema, opts) =>
        adapter.query(sql, params, rowSchema, { timeoutMs: WAREHOUSE_TIMEOUT_MS, ...opts }),
    },
    close: () => adapter.close(),
  };
}

/**
 * Real clients for the checks: a WebClient that does not retry (a doctor should answer fast), the
 * production Databricks clients with a short deadline, and the production SQL warehouse adapter
 * when a warehouse is configured. `close()` ends the warehouse session.
 *
 * @example const deps = createDoctorDeps(targets); try { await runDoctor(config, policy, deps); } finally { await deps.close(); }
 */
export function createDoctorDeps(targets: DoctorTargets): DoctorDeps & { close(): Promise<void> } {
  const clientOptions = {
    ...(targets.slack.apiUrl ? { slackApiUrl: targets.slack.apiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 10_000,
    logLevel: webApi.LogLevel.ERROR,
  };
  const { host, auth } = targets.databricks;
  // One token cache for REST and the warehouse, as in the bot.
  const tokens = createTokenProvider(host, auth, { timeoutMs: 10_000 });
  const http = createDatabricksHttp({
    host,
    tokens,
    timeoutMs: 10_000,
    // A doctor answers fast: a few quick retries for a blip, not the two minutes the bot allows itself.
    deadlineMs: 4_000,
  });
  const warehouse = targets.warehouse ? doctorWarehouse(targets.warehouse, tokens) : undefined;
  return {
    slack: new webApi.WebClient(targets.slack.botToken, clientOptions),
    ...(targets.slack.appToken
      ? { socket: new webApi.WebClient(targets.slack.appToken, clientOptions) }
      : {}),
    serving: createServingClient(http),
    registry: createRegistryClient(http),
    ...(warehouse ? { warehouse: warehouse.warehouse } : {}),
    monitors: createMonitorsClient(http),
    jobSettings: createJobSettingsReader(http),
    deploymentJobs: createDeploymentJobsClient(http),
    databricks: targets.databricks,
    close: async () => {
      await warehouse?.close();
    },
  };
}

/**
 * The whole doctor: configuration, then (if valid) the connection checks, against the twins for
 * whatever is not configured.
 *
 * @example const results = await doctor(process.env); process.exitCode = results.some((r) => r.status === 'fail') ? 1 : 0;
 */
export async function doctor(
  env: Record<string, string | undefined>,
  options: LoadOptions = {},
): Promise<CheckResult[]> {
  const checked = checkConfiguration(env, options);
  const { config, policy } = checked;
  if (!config || !policy) {
    return [...checked.results, skip('Connections', 'not checked until the configuration above is fixed')];
  }
  const stops: Array<() => Promise<void>> = [];
  try {
    let slack: DoctorTargets['slack'];
    if (config.slack.mode === 'sandbox') {
      const twin = await startSlackTwin();
      stops.push(() => twin.stop());
      slack = { botToken: twin.botToken, apiUrl: twin.apiUrl };
    } else {
      slack = {
        botToken: config.slack.botToken,
        ...(config.slack.apiUrl ? { apiUrl: config.slack.apiUrl } : {}),
        ...(config.slack.mode === 'socket' ? { appToken: config.slack.appToken } : {}),
      };
    }
    let databricks = config.databricks;
    let warehouse: DoctorTargets['warehouse'];
    if (databricks) {
      const { host, warehouseId, httpPath } = databricks;
      if (warehouseId || httpPath) {
        warehouse = { host, ...(warehouseId ? { warehouseId } : {}), ...(httpPath ? { httpPath } : {}) };
      }
    } else {
      // The sandbox's Databricks: the workspace twin and the SQL warehouse twin over the demo tables.
      const twins = await startDatabricksTwins();
      stops.push(() => twins.stop());
      databricks = {
        host: twins.workspace.url,
        auth: { kind: 'pat', token: twins.workspace.token },
        source: 'the local workspace twin',
      };
      warehouse = {
        host: twins.warehouse.url,
        httpPath: twins.warehouse.httpPath,
        ca: twins.warehouse.ca,
        source: 'the local SQL warehouse twin',
      };
    }
    const deps = createDoctorDeps({ slack, databricks, ...(warehouse ? { warehouse } : {}) });
    try {
      return [...checked.results, ...(await runDoctor(config, policy, deps))];
    } finally {
      await deps.close();
    }
  } finally {
    await Promise.all(stops.map((stop) => stop()));
  }
}

const isMain = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
})();

if (isMain) {
  doctor(process.env)
    .then((results) => {
      console.log(formatResults(results));
      process.exitCode = results.some((r) => r.status === 'fail') ? 1 : 0;
    })
    .catch((e: unknown) => {
      console.error(`modelgate doctor stopped: ${(e as Error).message}`);
      process.exitCode = 2;
    });
}
