/**
 * The edge of the process: every client is built once here, from concrete settings, and handed to
 * the services. The same adapters run in production, in the sandbox and in the tests; only the
 * addresses differ.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  App,
  type Logger as BoltLogger,
  LogLevel as BoltLogLevel,
  HTTPReceiver,
  SocketModeReceiver,
  webApi,
} from '@slack/bolt';
import type { LakebaseTarget } from '../config/env.js';
import { groupRefsIn, type Policy } from '../config/policy.js';
import type { TokenProvider } from '../databricks/auth.js';
import { createDatabaseCredentials } from '../databricks/database-credentials.js';
import { createDeploymentJobsClient, createModelVersionTags } from '../databricks/deployment-jobs.js';
import { createDatabricksHttp, type DatabricksHttp, type DatabricksHttpOptions } from '../databricks/http.js';
import { createJobSettingsReader } from '../databricks/job-settings.js';
import { createJobsClient } from '../databricks/jobs.js';
import { createMlflowRuns } from '../databricks/mlflow.js';
import { createMonitorsClient } from '../databricks/monitors.js';
import { createRegistryClient } from '../databricks/registry.js';
import { createServingClient } from '../databricks/serving.js';
import { createTablesClient } from '../databricks/tables.js';
import { createDatabricksWarehouse } from '../databricks/warehouse.js';
import type { DeploymentJobs, ModelVersionTags } from '../domain/ports/deployment-jobs.js';
import type { JobSettingsReader, Jobs } from '../domain/ports/jobs.js';
import type { Messenger } from '../domain/ports/messenger.js';
import type { MlflowRuns } from '../domain/ports/mlflow.js';
import type { Monitors } from '../domain/ports/monitors.js';
import type { DirectMessages } from '../domain/ports/people.js';
import type { Registry } from '../domain/ports/registry.js';
import type { Serving } from '../domain/ports/serving.js';
import type { Tables } from '../domain/ports/tables.js';
import type { Warehouse } from '../domain/ports/warehouse.js';
import type { DriftPublisher } from '../drift/types.js';
import type { SlackHealth } from '../health/report.js';
import { HEALTH_PATH } from '../health/server.js';
import type { Clock } from '../lib/clock.js';
import { fastFetch } from '../lib/http-client.js';
import type { Logger } from '../lib/logger.js';
import { createDirectory, type Directory } from '../slack/directory.js';
import { createSlackDirectMessages } from '../slack/dm.js';
import {
  createSlackDelivery,
  createSlackFallback,
  createSlackMessenger,
  type SlackFallback,
} from '../slack/messenger.js';
import { createSlackDriftPublisher } from '../slack/publisher.js';
import { isSkewedRequest } from '../slack/request-age.js';
import {
  type OwnedDatabaseOptions,
  openDatabase,
  openOwnedDatabase,
  type StoreDatabase,
} from '../storage/database.js';
import { openPostgres, type PostgresConnectionSettings } from '../storage/postgres.js';
import type { ProcessLock } from '../storage/process-lock.js';
import { createStoreStatus, type StoreStatus } from '../storage/status.js';

export type BotSlack =
  | {
      mode: 'http';
      botToken: string;
      signingSecret: string;
      apiUrl?: string;
      port: number;
      /** Interface to listen on; the sandbox and tests use 127.0.0.1. */
      host?: string;
    }
  | { mode: 'socket'; botToken: string; appToken: string; apiUrl?: string };

/** The workspace address and credentials, plus the HTTP layer's timing knobs. */
export type DatabricksSettings = { host: string; tokens: TokenProvider } & Partial<
  Pick<DatabricksHttpOptions, 'timeoutMs' | 'deadlineMs' | 'baseBackoffMs' | 'maxBackoffMs'>
>;

export interface AdapterSettings {
  policy: Policy;
  slack: BotSlack;
  /** Where and how to reach the workspace; timing knobs (tests shorten them) default in http.ts. */
  databricks: DatabricksSettings;
  dbPath: string;
  /** Postgres instead of the SQLite file at dbPath (MODELGATE_DATABASE_URL or the PG* variables). */
  postgres?: PostgresConnectionSettings | undefined;
  /** Start-up's wait for an unreachable Postgres, and the backoff (storage/postgres.ts defaults). */
  postgresConnect?: { timeoutMs?: number; initialDelayMs?: number; maxDelayMs?: number } | undefined;
  /** Aborts a start-up still waiting for the database. */
  signal?: AbortSignal | undefined;
  /** The SQL warehouse the drift checks read monitor tables through (same TokenProvider). */
  warehouse?: { host: string; httpPath: string; ca?: string } | undefined;
  clock: Clock;
  logger: Logger;
  /** Web API retries; defaults to five retries in five minutes (never Bolt's 30-minute default). */
  slackRetries?: webApi.RetryOptions | undefined;
  /** How long user-group memberships are cached (default 5 minutes). */
  directoryTtlMs?: number | undefined;
  /** The store's one live process: this process's identity, the lease, how long to wait for a holder. */
  storeLock?: Omit<OwnedDatabaseOptions, 'clock'> | undefined;
  /** A Lakebase database: its Postgres password is an OAuth credential minted through `databricks`. */
  lakebase?: LakebaseTarget | undefined;
  /** HTTP mode: answers GET /healthz on the bot's port (no Slack signature on it). */
  healthRoute?: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
}

export interface Adapters {
  /** Bolt, on the chosen transport; initialised (auth.test passed), not yet listening. */
  app: App;
  http: DatabricksHttp;
  serving: Serving;
  registry: Registry;
  jobs: Jobs;
  jobSettings: JobSettingsReader;
  mlflow: MlflowRuns;
  /** Deployment-job runs (tasks, repairs) and UC model-version tags. */
  deploymentJobs: DeploymentJobs;
  versionTags: ModelVersionTags;
  monitors: Monitors;
  /** Unity Catalog tables and schemas (monitor set-up and batch scoring check them first). */
  tables: Tables;
  warehouse: Warehouse | undefined;
  messenger: Messenger;
  /** The outbox's Slack: one call per send, no retries of its own, failures classified. */
  outboxSlack: Messenger;
  /** Other ways to reach a person (response_url, DM), for messages Slack refused for good. */
  fallback: SlackFallback;
  publisher: DriftPublisher;
  directory: Directory;
  /** Opens the bot's DM with a person (conversations.open). */
  dms: DirectMessages;
  /** The process's one database connection: every store shares it; whoever stops the bot closes it. */
  db: StoreDatabase;
  /** Connecting, ready or unreachable: what health reporting shows of the store. */
  storeStatus: StoreStatus;
  /** This process's lock on the store (with `storeLock`): heartbeat it; release it before closing `db`. */
  lock: ProcessLock | undefined;
  /** Socket Mode: the WebSocket's state as the client last told it (HTTP mode: not listening yet). */
  slackConnection(): SlackHealth;
  /** With `lakebase`: the Postgres password, cached and refreshed before its hour (the pg pool's `password`). */
  databasePassword: (() => Promise<string>) | undefined;
}

/**
 * Builds every client once. A bad bot token stops start-up here (auth.test), with Slack's error.
 *
 * @example const adapters = await createAdapters({ policy, slack, databricks, dbPath, clock, logger });
 */
export async function createAdapters(s: AdapterSettings): Promise<Adapters> {
  const { slack, logger, clock } = s;
  const http = createDatabricksHttp({ ...s.databricks, clock });
  const clientOptions: webApi.WebClientOptions = {
    ...(slack.apiUrl ? { slackApiUrl: slack.apiUrl } : {}),
    retryConfig: s.slackRetries ?? webApi.retryPolicies.fiveRetriesInFiveMinutes,
    // Web API calls and response_url replies; Bolt uses this fetch for both.
    fetch: fastFetch,
  };
  const boltLogger = toBoltLogger(logger);
  const common = {
    token: slack.botToken,
    clientOptions,
    logger: boltLogger,
    // No listener reads conversation state; the default store costs every event a lookup.
    convoStore: false as const,
    deferInitialization: true,
  };
  let connection: SlackHealth =
    slack.mode === 'http' ? { mode: 'http', listening: false } : { mode: 'socket', state: 'connecting' };
  let app: App;
  if (slack.mode === 'http') {
    const healthRoute = s.healthRoute;
    app = new App({
      ...common,
      receiver: refuseSkewedRequests(
        new HTTPReceiver({
          signingSecret: slack.signingSecret,
          logger: boltLogger,
          ...(healthRoute
            ? { customRoutes: [{ path: HEALTH_PATH, method: ['GET'], handler: healthRoute }] }
            : {}),
        }),
        logger,
      ),
    });
  } else {
    // Built here rather than by Bolt (socketMode: true) to hear the connection's state for /healthz.
    const receiver = new SocketModeReceiver({
      appToken: slack.appToken,
      logger: boltLogger,
      installerOptions: { clientOptions },
    });
    for (const state of ['connecting', 'connected', 'reconnecting', 'disconnected'] as const) {
      receiver.client.on(state, () => {
        connection = { mode: 'socket', state };
      });
    }
    // A dropped WebSocket emits only 'close' until the client's reconnect delay is over.
    receiver.client.on('close', () => {
      connection = { mode: 'socket', state: 'reconnecting' };
    });
    app = new App({ ...common, receiver });
  }
  await app.init();

  const warehouse = s.warehouse
    ? createDatabricksWarehouse({
        ...s.warehouse,
        tokens: s.databricks.tokens,
        onLog: (level, message) => logger.debug(`[sql ${level}] ${message}`),
      })
    : undefined;
  const storeStatus = createStoreStatus(s.postgres ? 'postgres' : 'sqlite', () => clock.now());
  // Postgres admits several replicas: no process lock there (storage/postgres.ts). On SQLite,
  // without storeLock (tools, some tests) the file is opened unguarded.
  const owned =
    !s.postgres && s.storeLock ? await openOwnedDatabase(s.dbPath, { ...s.storeLock, clock }) : undefined;
  const db = s.postgres
    ? await openPostgres({
        ...s.postgres,
        logger,
        clock,
        status: storeStatus,
        signal: s.signal,
        connect: s.postgresConnect,
      })
    : (owned?.db ?? openDatabase(s.dbPath));
  if (!s.postgres) storeStatus.set({ state: 'ready', since: clock.now() });
  return {
    app,
    http,
    serving: createServingClient(http),
    registry: createRegistryClient(http),
    jobs: createJobsClient(http),
    jobSettings: createJobSettingsReader(http),
    mlflow: createMlflowRuns(http),
    deploymentJobs: createDeploymentJobsClient(http),
    versionTags: createModelVersionTags(http),
    monitors: createMonitorsClient(http),
    tables: createTablesClient(http),
    warehouse,
    messenger: createSlackMessenger(app.client),
    ...outboxClients(slack.botToken, clientOptions, boltLogger),
    publisher: createSlackDriftPublisher(app.client),
    directory: createDirectory(app.client, clock, s.directoryTtlMs ?? 5 * 60_000, {
      refs: groupRefsIn(s.policy),
    }),
    db,
    storeStatus,
    lock: owned?.lock,
    slackConnection: () => connection,
    databasePassword: s.lakebase
      ? createDatabaseCredentials({
          http,
          target: s.lakebase,
          clock,
          onRefreshError: (e) =>
            logger.warn(`${e.message} (the current password still works for a few minutes)`),
        }).password
      : undefined,
  };
}

/**
 * Answers 401 to a request stamped more than 5 minutes from now in either direction, before Bolt
 * reads it (Bolt refuses only old ones). Slack's clock is the wall clock, hence Date.now and not
 * the bot's clock, which tests move at will.
 */
function refuseSkewedRequests(receiver: HTTPReceiver, logger: Logger): HTTPReceiver {
  const listener = receiver.requestListener;
  receiver.requestListener = (req, res) => {
    if (isSkewedRequest(req.headers['x-slack-request-timestamp'], Date.now())) {
      logger.warn('refused a Slack request whose timestamp is more than 5 minutes from now');
      res.writeHead(401).end();
      return;
    }
    listener(req, res);
  };
  return receiver;
}

/** The outbox retries with its own backoff, so its client neither retries nor waits out a 429. */
function outboxClients(token: string, options: webApi.WebClientOptions, logger: BoltLogger) {
  const client = new webApi.WebClient(token, {
    ...options,
    logger,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
  return {
    outboxSlack: createSlackDelivery(client),
    fallback: createSlackFallback(client, fastFetch),
    // Opening a DM sits on a click's path (the requester's notice): no retries that hold it.
    dms: createSlackDirectMessages(client),
  };
}

/** Bolt wants a logger it can configure; ours has a fixed level, so the setters are no-ops. */
function toBoltLogger(logger: Logger): BoltLogger {
  return {
    debug: (...m) => logger.debug(...m),
    info: (...m) => logger.info(...m),
    warn: (...m) => logger.warn(...m),
    error: (...m) => logger.error(...m),
    setLevel: () => {},
    getLevel: () => BoltLogLevel.INFO,
    setName: () => {},
  };
}
