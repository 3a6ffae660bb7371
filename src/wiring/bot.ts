/**
 * The one composition root: settings → adapters → services → app + schedule, and a stop() that
 * takes them down in order. main.ts (real services), sandbox/start.ts (the twins) and the
 * integration tests call startBot, which is why every address is a parameter.
 */
import type { App, webApi } from '@slack/bolt';
import { createApp } from '../app.js';
import type { ApprovalService, BackoffOptions } from '../approvals/service.js';
import type { ApprovalStore } from '../approvals/store.js';
import type { RunningChangePipeline } from '../changes/pipeline.js';
import type { ChangeStore } from '../changes/store.js';
import type { LakebaseTarget } from '../config/env.js';
import type { Policy } from '../config/policy.js';
import type { DeploymentCheck } from '../deployment-jobs/check.js';
import type { WaitForRolloutOptions } from '../domain/rollout.js';
import type { DriftStateStore } from '../drift/state-store.js';
import type { DriftSettings, DriftWatch } from '../drift/watch.js';
import type { HealthInputs, SlackHealth, StoreHealth } from '../health/report.js';
import { type HealthServer, healthHandler, startHealthServer } from '../health/server.js';
import { modelgateVersion } from '../health/version.js';
import type { HomeService } from '../home/service.js';
import { runRolloutWatch } from '../jobs/rollout-watch.js';
import { startSchedule } from '../jobs/schedule.js';
import { createLeadership, type Leadership } from '../leadership/leader.js';
import { createLeadershipStore } from '../leadership/store.js';
import type { LedgerService } from '../ledger/service.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { type Logger, silentLogger } from '../lib/logger.js';
import type { Outbox } from '../outbox/outbox.js';
import { createAckGate } from '../slack/ack-gate.js';
import type { PostgresConnectionSettings } from '../storage/postgres.js';
import { newProcessIdentity, type ProcessIdentity } from '../storage/process-lock.js';
import type { StoreStatus } from '../storage/status.js';
import { type BotSlack, createAdapters, type DatabricksSettings } from './adapters.js';
import { scheduledJobs } from './schedule.js';
import { createServices, type ServiceSettings, type Services } from './services.js';

export type { BotSlack } from './adapters.js';

/** The store's one live process, and the leases of the work in flight it owns. */
export interface StoreOwnershipOptions {
  /** This process's identity; a new one (host, pid, random) by default. */
  identity?: ProcessIdentity;
  /** How long an owner (of the store, of a change or execution) keeps it without a heartbeat; default 30 s. */
  leaseMs?: number;
  /** How often this process says it is alive; default a third of the lease. */
  heartbeatMs?: number;
  /** How long to wait at start-up for another process to give the store up; default 0 (refuse at once). */
  waitMs?: number;
  /** When the take-over job runs (node-cron; every minute by default); false: never (tests call it). */
  takeoverCron?: string | false;
}

export interface BotOptions {
  policy: Policy;
  slack: BotSlack;
  databricks: DatabricksSettings;
  dbPath: string;
  /** Postgres instead of the SQLite file at dbPath: several replicas may share it. */
  postgres?: PostgresConnectionSettings;
  /** Start-up's wait for an unreachable Postgres (60 s by default), and its backoff. */
  postgresConnect?: { timeoutMs?: number; initialDelayMs?: number; maxDelayMs?: number };
  clock?: Clock;
  logger?: Logger;
  /** Web API retries; defaults to five retries in five minutes (never Bolt's 30-minute default). */
  slackRetries?: webApi.RetryOptions;
  /** Rollout polling and timeout. */
  rolloutWait?: Pick<WaitForRolloutOptions, 'initialDelayMs' | 'maxDelayMs' | 'timeoutMs' | 'backoffFactor'>;
  /** How long user-group memberships are cached. */
  directoryTtlMs?: number;
  /** How approved executions follow job runs (polling, timeout). */
  approvalWait?: BackoffOptions;
  /** When the approval-expiry job runs (node-cron; every minute by default); false: never (tests call it). */
  approvalExpiryCron?: string | false;
  /** When the ledger tick runs (node-cron; every minute by default); false: never (tests call it). */
  ledgerCron?: string | false;
  /** When deployment-job runs are checked for approval (every minute by default); false: never (tests call it). */
  deploymentJobsCron?: string | false;
  /** The SQL warehouse the drift checks read monitor tables through (same TokenProvider). */
  warehouse?: { host: string; httpPath: string; ca?: string };
  /** Drift watch settings: forced renderer, schedule override (or false: none), QuickChart fetch. */
  drift?: DriftSettings;
  /** The store lock and the leases of owned work. */
  store?: StoreOwnershipOptions;
  /** Lakebase: the database whose OAuth credential is the Postgres password (MODELGATE_LAKEBASE_*). */
  lakebase?: LakebaseTarget;
  /** How much acknowledged work may wait per lane before more gets a busy reply (default 200). */
  queueLimit?: number;
  /** Slack delivery: retry backoff, and when an owed message counts as stuck. */
  outbox?: ServiceSettings['outbox'];
  /** When the canary rollouts are driven (node-cron; every minute by default); false: never (tests call it). */
  rolloutDriverCron?: string | false;
  /** The scheduler lease between replicas: its length and how often it is renewed (15 s / 5 s). */
  leadership?: { leaseMs?: number; renewMs?: number };
  /**
   * Socket Mode: where the /healthz server listens (none without it). HTTP mode always answers
   * /healthz on the bot's port.
   */
  health?: { port: number; host?: string };
  /** App Home refreshes: how long changes are gathered first. */
  home?: ServiceSettings['home'];
}

export interface RunningBot {
  app: App;
  /** HTTP mode: where Slack (or the console) posts, e.g. http://127.0.0.1:3000/slack/events */
  eventsUrl?: string;
  pipeline: RunningChangePipeline;
  store: ChangeStore;
  /** Approval requests and their votes. */
  requests: ApprovalStore;
  /** Approval requests: votes, expiry, executions. */
  approvals: ApprovalService;
  /** The drift watch and its state, when the policy has monitors. */
  drift?: DriftWatch & { state: DriftStateStore };
  /** This process, as the store lock and the work it owns name it. */
  identity: ProcessIdentity;
  /** The ledger of changes: `tick(now)` runs one pass. */
  ledger: LedgerService;
  /** Every message the bot owes Slack, until Slack takes it. */
  outbox: Outbox;
  /** Canary rollouts: `driver.tick()` runs one pass, `driver.idle()` waits for its work. */
  rollouts: Services['rollouts'];
  /** Whether this replica leads the scheduled jobs, and who does. */
  leadership: Leadership;
  /** Socket Mode with `health`: the /healthz server's address. */
  healthUrl?: string;
  /** Each user's App Home. */
  home: HomeService;
  /** The deployment-job check, when the policy links deployment jobs: `tick(now)` runs one pass. */
  deploymentJobs?: DeploymentCheck;
  /** The store: connecting, ready or unreachable (what /healthz reports). */
  storeStatus: StoreStatus;
  stop(): Promise<void>;
}

/**
 * Wires and starts the bot. Rollouts and approved executions a previous process left in flight
 * are picked up before the app starts listening, so their messages get finished.
 *
 * @example const bot = await startBot({ policy, slack: { mode: 'http', ... }, databricks, dbPath });
 */
export async function startBot(options: BotOptions): Promise<RunningBot> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const { policy, slack } = options;
  // Aborted at stop(): every poll sleeping in a backoff ends at once.
  const shutdown = new AbortController();
  const me = options.store?.identity ?? newProcessIdentity();
  const leaseMs = options.store?.leaseMs ?? 30_000;
  const heartbeatMs = options.store?.heartbeatMs ?? Math.max(50, Math.round(leaseMs / 3));
  const waitMs = options.store?.waitMs ?? 0;

  // /healthz answers from the first moment: the store is 'connecting' until it opens.
  const version = modelgateVersion();
  let storeHealth: () => StoreHealth = () => ({ state: 'connecting', detail: 'opening the store' });
  let slackHealth: () => SlackHealth = () =>
    slack.mode === 'http' ? { mode: 'http', listening: false } : { mode: 'socket', state: 'connecting' };
  let leadership: Leadership | undefined;
  const healthRoute = healthHandler(
    async (): Promise<HealthInputs> => ({
      store: storeHealth(),
      slack: slackHealth(),
      scheduler: leadership?.status(),
      version,
    }),
  );
  let healthServer: HealthServer | undefined;
  if (slack.mode === 'socket' && options.health) {
    healthServer = await startHealthServer({
      port: options.health.port,
      host: options.health.host ?? '0.0.0.0',
      handler: healthRoute,
    });
  }

  let adapters: Awaited<ReturnType<typeof createAdapters>>;
  try {
    adapters = await createAdapters({
      healthRoute,
      lakebase: options.lakebase,
      policy,
      slack,
      databricks: options.databricks,
      dbPath: options.dbPath,
      postgres: options.postgres,
      postgresConnect: options.postgresConnect,
      signal: shutdown.signal,
      warehouse: options.warehouse,
      clock,
      logger,
      slackRetries: options.slackRetries,
      directoryTtlMs: options.directoryTtlMs,
      storeLock: {
        me,
        leaseMs,
        waitMs,
        onWait: (e) => logger.warn(`${e.message} Waiting up to ${Math.round(waitMs / 1000)} s for it.`),
      },
    });
  } catch (e) {
    await healthServer?.stop();
    throw e;
  }
  storeHealth = () => {
    const s = adapters.storeStatus.current();
    if (s.state === 'ready') return { state: 'ready' };
    return s.state === 'connecting'
      ? { state: 'connecting', detail: s.lastError ?? `connecting (attempt ${s.attempt})` }
      : { state: 'unreachable', detail: s.error };
  };
  slackHealth = adapters.slackConnection;
  const services = createServices(adapters, {
    policy,
    clock,
    logger,
    signal: shutdown.signal,
    ...(options.rolloutWait ? { rolloutWait: options.rolloutWait } : {}),
    approvalWait: options.approvalWait,
    drift: options.drift,
    ownership: { instance: me.instance, leaseMs },
    outbox: options.outbox,
    home: options.home,
  });
  const { pipeline, approvals, store, drift } = services;
  const took = adapters.lock?.took;
  if (took) {
    // Its lock ran out, so it is dead: its work may be taken over now, not a lease later.
    const freed =
      (await store.expireLeasesOf(took.instance)) + (await services.requests.expireLeasesOf(took.instance));
    logger.warn(
      `took the store over from pid ${took.pid} on ${took.host} (instance ${took.instance}), silent since ` +
        `${new Date(took.heartbeatAt).toISOString()}; ${freed} piece(s) of its work will be settled from Databricks`,
    );
  }
  // Owners say they are alive; a process that stops (kill -9) loses its work a lease later.
  const heartbeat = setInterval(() => {
    void (async () => {
      try {
        if (adapters.lock && !adapters.lock.heartbeat()) {
          logger.error(`another process took the store ${options.dbPath} over: this one no longer holds it`);
        }
        await store.heartbeat();
        await services.requests.heartbeat();
        await services.scoring.heartbeat();
        await services.monitoring.heartbeat();
      } catch (e) {
        logger.error('heartbeat failed:', e);
      }
    })();
  }, heartbeatMs);
  heartbeat.unref();
  const ackGate = createAckGate();
  createApp(adapters.app, {
    ackGate,
    policy,
    commands: services.commands,
    pipeline,
    store,
    directory: adapters.directory,
    logger,
    approvals,
    drift,
    rollouts: services.rollouts.service,
    ...(options.queueLimit !== undefined ? { queueLimit: options.queueLimit } : {}),
    replyUrls: services.outbox,
    home: services.home,
  });

  // Messages a previous process still owed go out first, then the worker keeps delivering.
  await services.outbox.start();
  await runRolloutWatch(
    {
      pipeline,
      report: (e) => {
        if (e.kind === 'ok' && (e.summary.followed > 0 || e.summary.ended > 0)) {
          logger.info(
            `picked up ${e.summary.followed} rollout(s), ended ${e.summary.ended} interrupted change(s)`,
          );
        }
        if (e.kind === 'error') logger.error('could not resume rollouts:', e.error);
      },
    },
    clock.now(),
  );
  // Executions a previous process left between approval and end are finished (never run twice).
  try {
    const resumed = await approvals.resume();
    if (resumed.started + resumed.resumed > 0) {
      logger.info(`finishing ${resumed.started + resumed.resumed} approved request(s) left by a restart`);
    }
  } catch (e) {
    logger.error('could not resume approvals:', e);
  }

  // Scoring runs and monitor set-ups a previous process left in flight are settled from Databricks.
  try {
    const open = (await services.scoring.resume()) + (await services.monitoring.resume());
    if (open > 0) logger.info(`following ${open} scoring run(s) or monitor operation(s) left by a restart`);
  } catch (e) {
    logger.error('could not resume scoring runs or monitor operations:', e);
  }

  const jobs = scheduledJobs(services, {
    clock,
    logger,
    approvalExpiryCron: options.approvalExpiryCron,
    takeover: { leaseMs, cron: options.store?.takeoverCron },
    ledgerCron: options.ledgerCron,
    rolloutDriverCron: options.rolloutDriverCron,
    deploymentJobsCron: options.deploymentJobsCron,
  });
  // Every replica keeps the schedule; only the one holding the lease runs a job (checked per run).
  const leader = createLeadership({
    store: createLeadershipStore(adapters.db, { nowMs: () => clock.now() }),
    me: me.instance,
    logger,
    ...options.leadership,
  });
  leadership = leader;
  // The process whose store lock ran out is dead: its scheduler lease need not be waited out either.
  if (took) await leader.forget(took.instance);
  await leader.start();
  const schedule = jobs.length > 0 ? startSchedule(jobs.map(leader.guard), logger) : undefined;

  let eventsUrl: string | undefined;
  if (slack.mode === 'http') {
    const host = slack.host ?? '0.0.0.0';
    const server = await adapters.app.start({ port: slack.port, host });
    ackGate.watch(server);
    slackHealth = () => ({ mode: 'http', listening: server.listening });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : slack.port;
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    eventsUrl = `http://${shown}:${port}/slack/events`;
  } else {
    await adapters.app.start();
  }

  return {
    app: adapters.app,
    ...(eventsUrl ? { eventsUrl } : {}),
    pipeline,
    store,
    requests: services.requests,
    approvals,
    ...(drift ? { drift } : {}),
    identity: me,
    ledger: services.ledger,
    outbox: services.outbox,
    rollouts: services.rollouts,
    leadership: leader,
    ...(healthServer ? { healthUrl: healthServer.url } : {}),
    home: services.home,
    ...(services.deploymentJobs ? { deploymentJobs: services.deploymentJobs } : {}),
    storeStatus: adapters.storeStatus,
    async stop() {
      shutdown.abort(new Error('the bot is shutting down'));
      services.home.stop();
      pipeline.stop();
      services.rollouts.driver.stop();
      approvals.stop();
      services.scoring.stop();
      services.monitoring.stop();
      await schedule?.stop();
      await leader.stop();
      await adapters.app.stop();
      await healthServer?.stop();
      // Work still waiting on Databricks is left to the next start's resume(), not waited out.
      await Promise.race([
        Promise.all([pipeline.idle(), approvals.idle(), services.rollouts.driver.idle()]),
        Promise.all([pipeline.idle(), approvals.idle(), services.scoring.idle(), services.monitoring.idle()]),
        new Promise((r) => setTimeout(r, 5_000).unref()),
      ]);
      await drift?.idle();
      services.outbox.stop();
      await services.outbox.settled();
      await adapters.warehouse?.close();
      clearInterval(heartbeat);
      adapters.lock?.release();
      await adapters.db.close();
    },
  };
}
