import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy, type Policy } from '../../src/config/policy.js';
import { staticTokenProvider } from '../../src/databricks/auth.js';
import type { DriftSettings } from '../../src/drift/watch.js';
import { type Clock, systemClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { type SlackSeed, type SlackTwin, startSlackTwin } from '../../src/sandbox/slack/index.js';
import type { WarehouseTwin } from '../../src/sandbox/warehouse/index.js';
import { seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin, type WorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import type { DatabricksSettings } from '../../src/wiring/adapters.js';
import { type RunningBot, startBot } from '../../src/wiring/bot.js';
import {
  blockAction,
  postToBolt,
  type SlackRequest,
  slashCommand,
  TEST_SIGNING_SECRET,
} from './slack-requests.js';

export interface BotOnTwins {
  bot: RunningBot;
  slack: SlackTwin;
  workspace: WorkspaceTwin;
  dbPath: string;
  /** Types `/mlops <text>` as `user` (riley by default) and returns the HTTP answer. */
  command(
    text: string,
    overrides?: Parameters<typeof slashCommand>[0],
    signing?: Parameters<typeof slashCommand>[1],
  ): ReturnType<typeof postToBolt>;
  /** Clicks a button of a stored message. */
  click(
    overrides: Parameters<typeof blockAction>[0],
    signing?: Parameters<typeof blockAction>[1],
  ): ReturnType<typeof postToBolt>;
  post(request: SlackRequest): ReturnType<typeof postToBolt>;
  /** Starts a second bot process on the same store (a restart). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The real app over loopback: Slack twin, workspace twin with the demo data, a SQLite store in a
 * temporary folder, and the bot on an HTTP receiver on 127.0.0.1. Rollouts settle after
 * `rolloutDelayMs` of real time; the bot polls quickly so tests stay short.
 */
export async function startBotOnTwins(
  options: {
    policy?: Policy;
    rolloutDelayMs?: number;
    clock?: Clock;
    dbPath?: string;
    workspace?: WorkspaceTwin;
    /** The SQL warehouse twin for drift checks (see startDatabricksTwins). */
    warehouse?: WarehouseTwin;
    /** Drift settings; the schedule is off unless a test turns it on. */
    drift?: DriftSettings;
    /** The Slack twin's seed (e.g. more approvers); defaults to the demo workspace. */
    slackSeed?: SlackSeed;
    /** Timing of the Databricks HTTP layer (e.g. a short deadline for give-up cases). */
    databricksHttp?: Omit<DatabricksSettings, 'host' | 'tokens'>;
    /** How much acknowledged work may wait per lane (the bot's default otherwise). */
    queueLimit?: number;
    /** The store on this Postgres database instead of a SQLite file. */
    postgresUrl?: string;
  } = {},
): Promise<BotOnTwins> {
  const slack = await startSlackTwin(options.slackSeed ? { seed: options.slackSeed } : {});
  const workspace =
    options.workspace ??
    (await startWorkspaceTwin({ state: seedDemoWorkspace(), rolloutDelayMs: options.rolloutDelayMs ?? 150 }));
  const dir = options.dbPath ? undefined : mkdtempSync(join(tmpdir(), 'modelgate-test-'));
  const dbPath = options.dbPath ?? join(dir!, 'modelgate.db');
  const policy = options.policy ?? loadPolicy(EXAMPLE_POLICY_PATH);
  const launch = () =>
    startBot({
      policy,
      slack: {
        mode: 'http',
        botToken: slack.botToken,
        signingSecret: TEST_SIGNING_SECRET,
        apiUrl: slack.apiUrl,
        port: 0,
        host: '127.0.0.1',
      },
      databricks: {
        host: workspace.url,
        tokens: staticTokenProvider(workspace.token),
        ...options.databricksHttp,
      },
      dbPath,
      ...(options.postgresUrl
        ? { postgres: { connectionString: options.postgresUrl }, postgresConnect: { timeoutMs: 5_000 } }
        : {}),
      clock: options.clock ?? systemClock,
      slackRetries: { retries: 0 },
      rolloutWait: { initialDelayMs: 20, maxDelayMs: 50, timeoutMs: 10_000 },
      ...(options.warehouse
        ? {
            warehouse: {
              host: options.warehouse.url,
              httpPath: options.warehouse.httpPath,
              ca: options.warehouse.ca,
            },
          }
        : {}),
      drift: { schedule: false, ...options.drift },
      // Approved executions poll quickly; expiry runs only when a test calls the job with its own `now`.
      approvalWait: { initialDelayMs: 20, maxDelayMs: 50, timeoutMs: 10_000 },
      approvalExpiryCron: false,
      // The ledger ticks only when a test calls bot.ledger.tick(now), so call counts stay exact.
      ledgerCron: false,
      // Canary rollouts are driven only when a test calls bot.rollouts.driver.tick().
      rolloutDriverCron: false,
      // Deployment jobs are checked only when a test calls bot.deploymentJobs.tick(now).
      deploymentJobsCron: false,
      ...(options.queueLimit !== undefined ? { queueLimit: options.queueLimit } : {}),
      // Slack deliveries are retried quickly, so a recovering twin is seen within a test.
      outbox: { backoff: { initialDelayMs: 20, maxDelayMs: 100 } },
      // Homes are refreshed soon after a change, so a test sees it.
      home: { debounceMs: 50 },
      ...(process.env.TEST_LOG ? { logger: createLogger('debug') } : {}),
    });
  let bot = await launch();
  const env: BotOnTwins = {
    get bot() {
      return bot;
    },
    slack,
    workspace,
    dbPath,
    command: (text, overrides = {}, signing = {}) =>
      postToBolt(bot.eventsUrl!, slashCommand({ text, twin: slack, ...overrides }, signing)),
    click: (overrides, signing = {}) =>
      postToBolt(bot.eventsUrl!, blockAction({ twin: slack, ...overrides }, signing)),
    post: (request) => postToBolt(bot.eventsUrl!, request),
    async restart() {
      await bot.stop();
      bot = await launch();
    },
    async stop() {
      await bot.stop();
      await slack.stop();
      if (!options.workspace) await workspace.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return env;
}
