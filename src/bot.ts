/**
 * Builds the running bot from concrete settings: the Databricks clients, the change store and
 * pipeline, and a Bolt app on the chosen transport. main.ts (real services) and sandbox/start.ts
 * (the twins) call it; so do the integration tests, which is why every address is a parameter.
 */
import { App, type Logger as BoltLogger, LogLevel as BoltLogLevel, HTTPReceiver, webApi } from '@slack/bolt';
import { registerListeners } from './app.js';
import type { FiguresSource } from './approvals/evidence.js';
import { createMonitorFigures } from './approvals/figures.js';
import {
  type ApprovalService,
  type BackoffOptions,
  createApprovalService,
  gateChanges,
} from './approvals/service.js';
import { type ApprovalStore, createApprovalStore } from './approvals/store.js';
import { createChangePipeline, type RunningChangePipeline } from './changes/pipeline.js';
import { buildPlanFor, type PlanDeps } from './changes/plan/index.js';
import { type ChangeStore, createChangeStore } from './changes/store.js';
import { chartRenderers } from './charts/renderers.js';
import type { CommandDeps } from './commands/deps.js';
import { autoApplies, isProtected } from './config/access.js';
import { groupRefsIn, type Policy } from './config/policy.js';
import type { TokenProvider } from './databricks/auth.js';
import { createDatabricksHttp } from './databricks/http.js';
import { createJobSettingsReader } from './databricks/job-settings.js';
import { createJobsClient } from './databricks/jobs.js';
import { createMlflowRuns } from './databricks/mlflow.js';
import { createMonitorsClient } from './databricks/monitors.js';
import { createRegistryClient } from './databricks/registry.js';
import { createServingClient } from './databricks/serving.js';
import { createDatabricksWarehouse } from './databricks/warehouse.js';
import type { Plan } from './domain/change.js';
import type { WaitForRolloutOptions } from './domain/rollout.js';
import { createDriftStateStore, type DriftStateStore } from './drift/state-store.js';
import { createDriftWatch, type DriftSettings, type DriftWatch } from './drift/watch.js';
import { runApprovalExpiry } from './jobs/approval-expiry.js';
import { runDriftCheck } from './jobs/drift-check.js';
import { runRolloutWatch } from './jobs/rollout-watch.js';
import { type Schedule, type ScheduledJob, startSchedule } from './jobs/schedule.js';
import { type Clock, systemClock } from './lib/clock.js';
import { fastFetch } from './lib/http-client.js';
import { type Logger, silentLogger } from './lib/logger.js';
import { driftActionViews } from './slack/blocks/drift.js';
import { approvalViews, commandViews, driftViews, pipelineViews } from './slack/blocks/views.js';
import { createDirectory } from './slack/directory.js';
import { registerDriftListeners } from './slack/listeners/drift.js';
import { createSlackMessenger } from './slack/messenger.js';
import { createSlackDriftPublisher } from './slack/publisher.js';
import { openDatabase } from './storage/database.js';

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
  /** How approved executions follow job runs and pipeline steps (polling, timeout). */
  approvalWait?: BackoffOptions;
  /** When the approval-expiry job runs (node-cron; every minute by default); false: never (tests call it). */
  approvalExpiryCron?: string | false;
  /** The SQL warehouse the drift checks read monitor tables through (same TokenProvider). */
  warehouse?: { host: string; httpPath: string; ca?: string };
  /** Drift watch settings: forced renderer, schedule override (or false: none), QuickChart fetch. */
  drift?: DriftSettings;
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
  stop(): Promise<void>;
}

/**
 * Wires and starts the bot. Rollouts a previous process left in flight are picked up before the
 * app starts listening, so their messages get finished.
 *
 * @example const bot = await startBot({ policy, slack: { mode: 'http', ... }, databricks, dbPath });
 */
export async function startBot(options: BotOptions): Promise<RunningBot> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const http = createDatabricksHttp({ ...options.databricks, clock });
  const serving = createServingClient(http);
  const registry = createRegistryClient(http);
  // The process's one connection: every store shares it, stop() closes it.
  const db = openDatabase(options.dbPath);
  const store = createChangeStore(db, clock);
  const { policy, slack } = options;

  const clientOptions: webApi.WebClientOptions = {
    ...(slack.apiUrl ? { slackApiUrl: slack.apiUrl } : {}),
    retryConfig: options.slackRetries ?? webApi.retryPolicies.fiveRetriesInFiveMinutes,
    // Web API calls and response_url replies; Bolt uses this fetch for both.
    fetch: fastFetch,
  };
  const boltLogger = toBoltLogger(logger);
  const app =
    slack.mode === 'http'
      ? new App({
          token: slack.botToken,
          receiver: new HTTPReceiver({ signingSecret: slack.signingSecret, logger: boltLogger }),
          clientOptions,
          logger: boltLogger,
          // No listener reads conversation state; the default store costs every event a lookup.
          convoStore: false,
          deferInitialization: true,
        })
      : new App({
          token: slack.botToken,
          appToken: slack.appToken,
          socketMode: true,
          clientOptions,
          logger: boltLogger,
          convoStore: false,
          deferInitialization: true,
        });
  // auth.test now, so a bad bot token stops start-up with a clear error instead of failing later.
  await app.init();

  const history = { previousConfig: async (endpoint: string) => store.previousConfig(endpoint) };
  const defaults = policy.defaults;
  const planDeps: PlanDeps = { serving, registry, history, defaults };
  const endpointOf = (plan: Plan) => (plan.kind === 'endpoint' ? plan.endpoint : undefined);
  const pipeline = createChangePipeline({
    store,
    serving,
    registry,
    messenger: createSlackMessenger(app.client),
    clock,
    views: pipelineViews,
    buildPlan: (input) => buildPlanFor(input, planDeps),
    workspaceHost: http.host,
    autoApplies: (subcommand, plan) => autoApplies(policy, subcommand, endpointOf(plan)),
    needsConfirmation: (plan) => isProtected(policy, endpointOf(plan)),
    onError: (err, id) => logger.error(`[${id}] change pipeline:`, err),
    ...(options.rolloutWait ? { waitOptions: options.rolloutWait } : {}),
  });
  const commands: CommandDeps = {
    ...planDeps,
    changes: pipeline,
    views: commandViews,
    clock,
    workspaceHost: http.host,
  };
  const directory = createDirectory(app.client, clock, options.directoryTtlMs ?? 5 * 60_000, {
    refs: groupRefsIn(policy),
  });
  // The monitors' latest figures, for approvers; set once the drift watch's warehouse exists.
  let figures: FiguresSource | undefined;
  // Approval requests share the connection and the change store's append-only audit log.
  const requests = createApprovalStore(db, clock.now, (entry) => store.audit(entry));
  const approvals = createApprovalService({
    policy,
    defaults,
    store,
    requests,
    pipeline,
    views: approvalViews,
    buildPlan: (input) => buildPlanFor(input, planDeps),
    registry,
    mlflow: createMlflowRuns(http),
    jobs: createJobsClient(http),
    jobSettings: createJobSettingsReader(http),
    messenger: createSlackMessenger(app.client),
    groupsOf: (userId) => directory.groupsOf(userId),
    clock,
    workspaceHost: http.host,
    onError: (err, id) => logger.error(`[${id}] approvals:`, err),
    figures: { figuresFor: async (...args) => figures?.figuresFor(...args) },
    ...(options.approvalWait ? { wait: options.approvalWait } : {}),
  });
  // Gated changes (Production, and what the policy's gates cover) become approval requests.
  commands.changes = gateChanges(pipeline, approvals, policy);
  commands.approvals = approvals;
  registerListeners(app, { policy, commands, pipeline, store, directory, logger, approvals });

  const warehouse = options.warehouse
    ? createDatabricksWarehouse({
        ...options.warehouse,
        tokens: options.databricks.tokens,
        onLog: (level, message) => logger.debug(`[sql ${level}] ${message}`),
      })
    : undefined;
  // Shutdown ends the drift checks' refresh waits at once.
  const shutdown = new AbortController();
  const driftState = Object.keys(policy.monitors ?? {}).length > 0 ? createDriftStateStore(db) : undefined;
  const drift = driftState
    ? createDriftWatch({
        policy,
        state: driftState,
        warehouse,
        monitors: createMonitorsClient(http),
        serving,
        publisher: createSlackDriftPublisher(app.client),
        views: driftViews,
        actionViews: driftActionViews,
        audit: store,
        retrain: approvals,
        renderer: chartRenderers({
          quickchartHost: policy.charts?.quickchartHost,
          fetch: options.drift?.quickchartFetch,
        }),
        runCheck: runDriftCheck,
        clock,
        logger,
        signal: shutdown.signal,
        ...(options.drift ? { settings: options.drift } : {}),
      })
    : undefined;
  if (warehouse && policy.monitors) {
    figures = createMonitorFigures({
      warehouse,
      monitors: createMonitorsClient(http),
      monitorsByName: policy.monitors,
      defaults,
      clock,
    });
  }
  if (drift) {
    commands.drift = drift.commands;
    registerDriftListeners(app, { policy, actions: drift.actions, directory, logger });
  }

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
  // The one schedule of the process: approval expiry and the drift checks.
  const jobs: ScheduledJob[] = [
    ...(options.approvalExpiryCron === false
      ? []
      : [
          {
            name: 'approval-expiry',
            cron: options.approvalExpiryCron ?? '* * * * *',
            run: async () => {
              await runApprovalExpiry(
                {
                  approvals,
                  report: (e) => {
                    if (e.kind === 'error') logger.error('approval expiry failed:', e.error);
                  },
                },
                clock.now(),
              );
            },
          },
        ]),
    ...(drift?.jobs ?? []),
  ];
  const schedule: Schedule | undefined = jobs.length > 0 ? startSchedule(jobs, logger) : undefined;

  let eventsUrl: string | undefined;
  if (slack.mode === 'http') {
    const host = slack.host ?? '0.0.0.0';
    const server = await app.start({ port: slack.port, host });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : slack.port;
    eventsUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/slack/events`;
  } else {
    await app.start();
  }

  return {
    app,
    ...(eventsUrl ? { eventsUrl } : {}),
    pipeline,
    store,
    requests,
    approvals,
    ...(drift && driftState ? { drift: { ...drift, state: driftState } } : {}),
    async stop() {
      shutdown.abort(new Error('the bot is shutting down'));
      pipeline.stop();
      approvals.stop();
      await schedule?.stop();
      await app.stop();
      // Work still waiting on Databricks is left to the next start's resume(), not waited out.
      await Promise.race([
        Promise.all([pipeline.idle(), approvals.idle()]),
        new Promise((r) => setTimeout(r, 5_000).unref()),
      ]);
      await drift?.idle();
      await warehouse?.close();
      db.close();
    },
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
