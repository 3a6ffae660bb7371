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
import type { Policy } from '../config/policy.js';
import type { TokenProvider } from '../databricks/auth.js';
import type { WaitForRolloutOptions } from '../domain/rollout.js';
import type { DriftStateStore } from '../drift/state-store.js';
import type { DriftSettings, DriftWatch } from '../drift/watch.js';
import { runRolloutWatch } from '../jobs/rollout-watch.js';
import { startSchedule } from '../jobs/schedule.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { type Logger, silentLogger } from '../lib/logger.js';
import type { Outbox } from '../outbox/outbox.js';
import { createAckGate } from '../slack/ack-gate.js';
import { type BotSlack, createAdapters } from './adapters.js';
import { scheduledJobs } from './schedule.js';
import { createServices, type ServiceSettings } from './services.js';

export type { BotSlack } from './adapters.js';

export interface BotOptions {
  policy: Policy;
  slack: BotSlack;
  databricks: { host: string; tokens: TokenProvider };
  dbPath: string;
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
  /** The SQL warehouse the drift checks read monitor tables through (same TokenProvider). */
  warehouse?: { host: string; httpPath: string; ca?: string };
  /** Drift watch settings: forced renderer, schedule override (or false: none), QuickChart fetch. */
  drift?: DriftSettings;
  /** Slack delivery: retry backoff, and when an owed message counts as stuck. */
  outbox?: ServiceSettings['outbox'];
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
  /** Every message the bot owes Slack, until Slack takes it. */
  outbox: Outbox;
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

  const adapters = await createAdapters({
    policy,
    slack,
    databricks: options.databricks,
    dbPath: options.dbPath,
    warehouse: options.warehouse,
    clock,
    logger,
    slackRetries: options.slackRetries,
    directoryTtlMs: options.directoryTtlMs,
  });
  const services = createServices(adapters, {
    policy,
    clock,
    logger,
    signal: shutdown.signal,
    ...(options.rolloutWait ? { rolloutWait: options.rolloutWait } : {}),
    approvalWait: options.approvalWait,
    drift: options.drift,
    outbox: options.outbox,
  });
  const { pipeline, approvals, store, drift } = services;
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
    replyUrls: services.outbox,
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

  const jobs = scheduledJobs(services, { clock, logger, approvalExpiryCron: options.approvalExpiryCron });
  const schedule = jobs.length > 0 ? startSchedule(jobs, logger) : undefined;

  let eventsUrl: string | undefined;
  if (slack.mode === 'http') {
    const host = slack.host ?? '0.0.0.0';
    const server = await adapters.app.start({ port: slack.port, host });
    ackGate.watch(server);
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : slack.port;
    eventsUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/slack/events`;
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
    outbox: services.outbox,
    async stop() {
      shutdown.abort(new Error('the bot is shutting down'));
      pipeline.stop();
      approvals.stop();
      await schedule?.stop();
      await adapters.app.stop();
      // Work still waiting on Databricks is left to the next start's resume(), not waited out.
      await Promise.race([
        Promise.all([pipeline.idle(), approvals.idle()]),
        new Promise((r) => setTimeout(r, 5_000).unref()),
      ]);
      await drift?.idle();
      services.outbox.stop();
      await services.outbox.settled();
      await adapters.warehouse?.close();
      adapters.db.close();
    },
  };
}
