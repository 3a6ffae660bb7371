/**
 * The environment, parsed once at start-up from an object passed in (never `process.env` here).
 * Every problem is collected and thrown together as a ConfigError: which variable, what is wrong,
 * how to fix it. No message ever contains a token or secret.
 */
import { isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { LogLevel } from '../lib/logger.js';
import { type DatabaseSettings, databaseSettings, describeDatabase } from './database.js';
import {
  ConfigError,
  type ConfigIssue,
  type DatabricksConnection,
  isLoopbackHost,
  type ResolveOptions,
  resolveDatabricksConnection,
} from './databricks-connection.js';

export type { LogLevel };

/**
 * How the bot reaches Slack. `socket`: outbound WebSocket (no public URL needed). `http`: Slack
 * POSTs to /slack/events, signed with the signing secret. `sandbox`: nothing configured; the
 * local Slack twin and console stand in for Slack.
 */
export type SlackSettings =
  | { mode: 'socket'; botToken: string; appToken: string; apiUrl?: string }
  | { mode: 'http'; botToken: string; signingSecret: string; apiUrl?: string }
  | { mode: 'sandbox' };

export interface AppConfig {
  slack: SlackSettings;
  /** HTTP mode: where Bolt listens. Sandbox: the console. Socket Mode: health routes, if any. */
  port: number;
  /**
   * The interface the HTTP listener binds (HOST): 0.0.0.0 in HTTP mode, 127.0.0.1 in the sandbox
   * (loopback only) unless set.
   */
  host: string;
  /** How much acknowledged work may wait per lane before more is shed with a busy reply. */
  queueLimit: number;
  /** Undefined when no Databricks setting exists at all: the local workspace twin is used. */
  databricks: DatabricksConnection | undefined;
  /** The policy file (YAML). */
  policyPath: string;
  /** The SQLite change store (used when `database` is SQLite). */
  dbPath: string;
  /** Which store: the SQLite file at dbPath, or Postgres (MODELGATE_DATABASE_URL or PG*). */
  database: DatabaseSettings;
  /** How long start-up waits for another process to give the store up (MODELGATE_STORE_WAIT_SECONDS). */
  storeWaitMs: number;
  logLevel: LogLevel;
  /**
   * Socket Mode: the port of the /healthz server (MODELGATE_HEALTH_PORT, else DATABRICKS_APP_PORT,
   * which a Databricks App must listen on); undefined: none. HTTP mode serves /healthz on `port`.
   */
  healthPort: number | undefined;
  /** The Lakebase database whose OAuth credential is the Postgres password; undefined: none. */
  lakebase: LakebaseTarget | undefined;
}

/**
 * A Lakebase database to mint Postgres passwords for: a Provisioned instance by name
 * (MODELGATE_LAKEBASE_INSTANCE) or an Autoscaling endpoint by path (MODELGATE_LAKEBASE_ENDPOINT).
 */
export type LakebaseTarget =
  | { kind: 'provisioned'; instance: string }
  | { kind: 'autoscaling'; endpoint: string };

/** The example policy at the repo root: the sandbox's default and the tests' fixture. */
export const EXAMPLE_POLICY_PATH = fileURLToPath(new URL('../../modelgate.example.yml', import.meta.url));
export const DEFAULT_DB_PATH = '.data/modelgate.db';
export const DEFAULT_PORT = 3000;
/** Longer than the 30 s lease, so a process killed just before is taken over within the wait. */
export const DEFAULT_STORE_WAIT_SECONDS = 45;
export const DEFAULT_HTTP_HOST = '0.0.0.0';
export const SANDBOX_HOST = '127.0.0.1';
export const DEFAULT_QUEUE_LIMIT = 200;

/** Empty or blank means unset, as in t3-env's `emptyStringAsUndefined`. */
const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** Raw variables this module reads; anything else in the environment is ignored. */
export const envSchema = z.object({
  SLACK_BOT_TOKEN: optional,
  SLACK_APP_TOKEN: optional,
  SLACK_SIGNING_SECRET: optional,
  SLACK_API_URL: optional,
  PORT: optional,
  HOST: optional,
  MODELGATE_CONFIG: optional,
  MODELGATE_QUEUE_LIMIT: optional,
  MODELGATE_DB: optional,
  MODELGATE_STORE_WAIT_SECONDS: optional,
  MODELGATE_DATABASE_URL: optional,
  PGHOST: optional,
  PGPORT: optional,
  PGUSER: optional,
  PGPASSWORD: optional,
  PGDATABASE: optional,
  LOG_LEVEL: optional,
  MODELGATE_HEALTH_PORT: optional,
  /** Set by Databricks Apps: the port the app must listen on (0.0.0.0). */
  DATABRICKS_APP_PORT: optional,
  MODELGATE_LAKEBASE_INSTANCE: optional,
  MODELGATE_LAKEBASE_ENDPOINT: optional,
});
export type RawEnv = z.infer<typeof envSchema>;

const BOT_TOKEN_FIX =
  'use the Bot User OAuth Token (xoxb-…) from OAuth & Permissions in the Slack app settings';
const APP_TOKEN_FIX =
  'create an app-level token with the connections:write scope under Basic Information → App-Level Tokens (xapp-…)';
const SIGNING_FIX = 'copy the Signing Secret from Basic Information → App Credentials';

/** What kind of Slack credential a value looks like, by prefix only (the value itself is never shown). */
function tokenKind(v: string): 'bot' | 'app' | 'user' | 'refresh' | 'other' {
  if (/^(xoxe\.)?xoxb-/.test(v)) return 'bot';
  if (v.startsWith('xapp-')) return 'app';
  if (/^(xoxe\.)?xoxp-/.test(v)) return 'user';
  if (v.startsWith('xoxe-')) return 'refresh';
  return 'other';
}

const KIND_WORDS = {
  bot: 'a bot token (xoxb-)',
  app: 'an app-level token (xapp-)',
  user: 'a user token (xoxp-)',
  refresh: 'a refresh token (xoxe-)',
  other: 'not a Slack token',
} as const;

function checkBotToken(v: string, issues: ConfigIssue[]): void {
  const kind = tokenKind(v);
  if (kind === 'bot') return;
  issues.push({
    key: 'SLACK_BOT_TOKEN',
    problem: `is ${KIND_WORDS[kind]}, not the bot token`,
    fix: kind === 'app' ? `${BOT_TOKEN_FIX}; the xapp- token belongs in SLACK_APP_TOKEN` : BOT_TOKEN_FIX,
  });
}

function checkAppToken(v: string, issues: ConfigIssue[]): void {
  const kind = tokenKind(v);
  if (kind === 'app') return;
  issues.push({
    key: 'SLACK_APP_TOKEN',
    problem: `is ${KIND_WORDS[kind]}, not an app-level token (xapp-)`,
    fix: kind === 'bot' ? `${APP_TOKEN_FIX}; the xoxb- token belongs in SLACK_BOT_TOKEN` : APP_TOKEN_FIX,
  });
}

function slackSettings(raw: RawEnv, issues: ConfigIssue[]): SlackSettings | undefined {
  const { SLACK_BOT_TOKEN: bot, SLACK_APP_TOKEN: app, SLACK_SIGNING_SECRET: secret } = raw;
  let apiUrl: string | undefined;
  if (raw.SLACK_API_URL !== undefined) {
    apiUrl = slackApiUrl(raw.SLACK_API_URL, issues);
  }
  const withUrl = apiUrl ? { apiUrl } : {};
  if (!bot && !app && !secret) {
    if (raw.SLACK_API_URL !== undefined) {
      issues.push({
        key: 'SLACK_API_URL',
        problem: 'is set but no Slack token is',
        fix: 'set SLACK_BOT_TOKEN (plus SLACK_APP_TOKEN or SLACK_SIGNING_SECRET), or unset SLACK_API_URL to run the sandbox',
      });
      return undefined;
    }
    return { mode: 'sandbox' };
  }
  if (secret && tokenKind(secret) !== 'other') {
    issues.push({
      key: 'SLACK_SIGNING_SECRET',
      problem: `is ${KIND_WORDS[tokenKind(secret)]}, not the signing secret`,
      fix: SIGNING_FIX,
    });
  }
  if (bot) checkBotToken(bot, issues);
  if (app) {
    checkAppToken(app, issues);
    if (!bot) {
      issues.push({
        key: 'SLACK_BOT_TOKEN',
        problem: 'is not set (Socket Mode needs it next to SLACK_APP_TOKEN)',
        fix: BOT_TOKEN_FIX,
      });
      return undefined;
    }
    return { mode: 'socket', botToken: bot, appToken: app, ...withUrl };
  }
  if (!bot) {
    issues.push({ key: 'SLACK_BOT_TOKEN', problem: 'is not set', fix: BOT_TOKEN_FIX });
  }
  if (!secret) {
    issues.push({
      key: 'SLACK_SIGNING_SECRET',
      problem: 'is not set (HTTP mode verifies every request with it)',
      fix: `${SIGNING_FIX}, or set SLACK_APP_TOKEN to use Socket Mode instead`,
    });
  }
  if (!bot || !secret) return undefined;
  return { mode: 'http', botToken: bot, signingSecret: secret, ...withUrl };
}

/** Validates SLACK_API_URL: https, or http on loopback (tests, the twin); always ends in `/`. */
function slackApiUrl(value: string, issues: ConfigIssue[]): string | undefined {
  const fix = 'use the Web API base URL, e.g. https://slack-gov.com/api/ for GovSlack, or unset it';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    issues.push({ key: 'SLACK_API_URL', problem: `"${value}" is not a URL`, fix });
    return undefined;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    issues.push({
      key: 'SLACK_API_URL',
      problem:
        url.protocol === 'http:'
          ? `plain http:// to ${url.hostname} would send the bot token in clear`
          : `scheme ${url.protocol} is not supported`,
      fix,
    });
    return undefined;
  }
  const text = url.toString();
  return text.endsWith('/') ? text : `${text}/`;
}

function port(value: string | undefined, issues: ConfigIssue[]): number {
  if (value === undefined) return DEFAULT_PORT;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535) {
    issues.push({
      key: 'PORT',
      problem: `"${value}" is not a port number`,
      fix: `set PORT to a number from 1 to 65535, or unset it for ${DEFAULT_PORT}`,
    });
    return DEFAULT_PORT;
  }
  return n;
}

/** Socket Mode's /healthz port: MODELGATE_HEALTH_PORT, else the Databricks App's port, else none. */
function healthPort(raw: RawEnv, issues: ConfigIssue[]): number | undefined {
  for (const key of ['MODELGATE_HEALTH_PORT', 'DATABRICKS_APP_PORT'] as const) {
    const value = raw[key];
    if (value === undefined) continue;
    const n = Number(value);
    if (/^\d+$/.test(value) && n <= 65_535) return n;
    issues.push({
      key,
      problem: `"${value}" is not a port number`,
      fix:
        key === 'MODELGATE_HEALTH_PORT'
          ? 'set it to a number from 1 to 65535 (0: any free port), or unset it for no /healthz server in Socket Mode'
          : 'Databricks Apps set it; unset it outside an app',
    });
    return undefined;
  }
  return undefined;
}

const LAKEBASE_ENDPOINT = /^projects\/[^/]+\/branches\/[^/]+\/endpoints\/[^/]+$/;

function lakebase(raw: RawEnv, issues: ConfigIssue[]): LakebaseTarget | undefined {
  const { MODELGATE_LAKEBASE_INSTANCE: instance, MODELGATE_LAKEBASE_ENDPOINT: endpoint } = raw;
  if (instance && endpoint) {
    issues.push({
      key: 'MODELGATE_LAKEBASE_ENDPOINT',
      problem: 'is set together with MODELGATE_LAKEBASE_INSTANCE',
      fix: 'set MODELGATE_LAKEBASE_INSTANCE for a Provisioned instance or MODELGATE_LAKEBASE_ENDPOINT for an Autoscaling one, not both',
    });
    return undefined;
  }
  if (endpoint) {
    if (LAKEBASE_ENDPOINT.test(endpoint)) return { kind: 'autoscaling', endpoint };
    issues.push({
      key: 'MODELGATE_LAKEBASE_ENDPOINT',
      problem: `"${endpoint}" is not an endpoint path`,
      fix: 'use projects/<project>/branches/<branch>/endpoints/<endpoint>, as the Lakebase page of the project shows it',
    });
    return undefined;
  }
  return instance ? { kind: 'provisioned', instance } : undefined;
}

function storeWaitMs(value: string | undefined, issues: ConfigIssue[]): number {
  if (value === undefined) return DEFAULT_STORE_WAIT_SECONDS * 1000;
  if (!/^\d+$/.test(value) || Number(value) > 3600) {
    issues.push({
      key: 'MODELGATE_STORE_WAIT_SECONDS',
      problem: `"${value}" is not a number of seconds`,
      fix: `set it to whole seconds from 0 (refuse at once when another process holds the store) to 3600, or unset it for ${DEFAULT_STORE_WAIT_SECONDS}`,
    });
    return DEFAULT_STORE_WAIT_SECONDS * 1000;
  }
  return Number(value) * 1000;
}

/** A host name (RFC 1123 labels) or an IP address: what HOST may hold. */
const hostSchema = z.union([
  z.ipv4(),
  z.ipv6(),
  z
    .string()
    .max(253)
    .regex(
      /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/,
    ),
]);

function host(value: string | undefined, slack: SlackSettings | undefined, issues: ConfigIssue[]): string {
  const fallback = slack?.mode === 'sandbox' ? SANDBOX_HOST : DEFAULT_HTTP_HOST;
  if (value === undefined) return fallback;
  if (hostSchema.safeParse(value).success) return value;
  issues.push({
    key: 'HOST',
    problem: `"${value}" is not an IP address or host name`,
    fix: `set HOST to the interface to listen on, e.g. 127.0.0.1 or 0.0.0.0 (or :: for IPv6), or unset it for ${fallback}`,
  });
  return fallback;
}

const queueLimitSchema = z.coerce.number().int().min(0).max(100_000);

function queueLimit(value: string | undefined, issues: ConfigIssue[]): number {
  if (value === undefined) return DEFAULT_QUEUE_LIMIT;
  const parsed = /^\d+$/.test(value) ? queueLimitSchema.safeParse(value) : undefined;
  if (parsed?.success) return parsed.data;
  issues.push({
    key: 'MODELGATE_QUEUE_LIMIT',
    problem: `"${value}" is not a whole number from 0 to 100000`,
    fix: `set it to how many commands and clicks may wait for the bot at once, or unset it for ${DEFAULT_QUEUE_LIMIT}`,
  });
  return DEFAULT_QUEUE_LIMIT;
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

function logLevel(value: string | undefined, issues: ConfigIssue[]): LogLevel {
  if (value === undefined) return 'info';
  const lower = value.toLowerCase();
  const level = LOG_LEVELS.find((l) => l === lower || (l === 'warn' && lower === 'warning'));
  if (level) return level;
  issues.push({
    key: 'LOG_LEVEL',
    problem: `"${value}" is not a log level`,
    fix: `use one of ${LOG_LEVELS.join(', ')}, or unset it for info`,
  });
  return 'info';
}

/**
 * Parses the environment into the app's configuration. Throws ConfigError listing every problem,
 * Databricks ones included (`options` lets tests replace ~/.databrickscfg).
 *
 * @example
 * parseEnv({ SLACK_APP_TOKEN: 'xapp-…', SLACK_BOT_TOKEN: 'xoxb-…', MODELGATE_CONFIG: 'modelgate.yml' }).slack.mode // 'socket'
 * parseEnv({}).slack.mode // 'sandbox'
 */
export function parseEnv(env: Record<string, string | undefined>, options: ResolveOptions = {}): AppConfig {
  const raw = envSchema.parse(env);
  const issues: ConfigIssue[] = [];
  const slack = slackSettings(raw, issues);
  let databricks: DatabricksConnection | undefined;
  try {
    databricks = resolveDatabricksConnection(env, options);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    issues.push(...e.issues);
  }
  let policyPath = raw.MODELGATE_CONFIG;
  if (policyPath === undefined) {
    if (slack?.mode === 'sandbox') {
      policyPath = EXAMPLE_POLICY_PATH;
    } else {
      issues.push({
        key: 'MODELGATE_CONFIG',
        problem: 'is not set',
        fix: 'set it to the path of your policy file; copy modelgate.example.yml to start one',
      });
    }
  }
  const config = {
    port: port(raw.PORT, issues),
    host: host(raw.HOST, slack, issues),
    queueLimit: queueLimit(raw.MODELGATE_QUEUE_LIMIT, issues),
    logLevel: logLevel(raw.LOG_LEVEL, issues),
    dbPath: raw.MODELGATE_DB ?? DEFAULT_DB_PATH,
    database: databaseSettings(raw, raw.MODELGATE_DB ?? DEFAULT_DB_PATH, issues),
    storeWaitMs: storeWaitMs(raw.MODELGATE_STORE_WAIT_SECONDS, issues),
    healthPort: healthPort(raw, issues),
    lakebase: lakebase(raw, issues),
    databricks,
  };
  if (issues.length > 0 || !slack || policyPath === undefined) throw new ConfigError(issues);
  return { ...config, slack, policyPath };
}

/**
 * A path as people want to read it: relative to the working directory when it lies below it.
 *
 * @example displayPath('/work/main/modelgate.example.yml') // 'modelgate.example.yml' when run from /work/main
 */
export function displayPath(path: string, cwd = process.cwd()): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(cwd, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/**
 * A one-line summary of a configuration for the start-up log; holds no secret.
 *
 * @example describeConfig(config) // 'Slack: Socket Mode; Databricks: https://adb-1.azuredatabricks.net (environment, personal access token); …'
 */
export function describeConfig(config: AppConfig): string {
  const slack =
    config.slack.mode === 'sandbox'
      ? 'sandbox (local Slack twin)'
      : `${config.slack.mode === 'socket' ? 'Socket Mode' : `HTTP mode on ${config.host}:${config.port}`}${
          config.slack.apiUrl ? ` via ${config.slack.apiUrl}` : ''
        }`;
  const db = config.databricks;
  const databricks = db
    ? `${db.host} (${db.source}, ${db.auth.kind === 'pat' ? 'personal access token' : 'OAuth service principal'})`
    : 'local workspace twin';
  return `Slack: ${slack}; Databricks: ${databricks}; policy: ${displayPath(config.policyPath)}; store: ${describeDatabase(config.database)}`;
}

/**
 * A readable multi-line report of every configuration problem, for start-up and `doctor`.
 *
 * @example console.error(formatConfigError(err)); process.exitCode = 1;
 */
export function formatConfigError(err: ConfigError): string {
  const n = err.issues.length;
  const lines = [
    `modelgate cannot start: ${n === 1 ? 'one problem' : `${n} problems`} in the configuration.`,
    '',
  ];
  for (const issue of err.issues) {
    const line = (issue as { line?: number }).line;
    lines.push(`  ✗ ${issue.key}${line !== undefined ? ` (line ${line})` : ''}: ${issue.problem}`);
    lines.push(`      fix: ${issue.fix}`);
  }
  lines.push('', 'Fix these, then run `npm run doctor` to check the connections as well.');
  return lines.join('\n');
}
