/**
 * Sandbox mode: each side that has no credentials falls back to its local twin, bound to
 * 127.0.0.1. The bot itself is the production bot; only the addresses it talks to differ.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../config/env.js';
import type { Policy } from '../config/policy.js';
import { createTokenProvider, staticTokenProvider, type TokenProvider } from '../databricks/auth.js';
import { warehouseHttpPath } from '../databricks/warehouse.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { type RunningBot, startBot } from '../wiring/bot.js';
import { createBatchScorer } from './batch-scorer.js';
import { type CanaryDemo, startCanaryDemo } from './canary-demo.js';
import { mountConsole, type SandboxConsole } from './console/mount-console.js';
import { seedDemoTables } from './demo-tables.js';
import { openSandboxDuckDb, type SandboxDb } from './duckdb.js';
import { createPayloadSink } from './inference-sink.js';
import { type SlackTwin, startSlackTwin } from './slack/index.js';
import { startWarehouseTwin, type WarehouseTwin } from './warehouse/index.js';
import { DEMO, seedDemoWorkspace, seedDeploymentDemo } from './workspace/demo.js';
import { startWorkspaceTwin, type WorkspaceTwin } from './workspace/server.js';

export interface DatabricksTwins {
  db: SandboxDb;
  workspace: WorkspaceTwin;
  warehouse: WarehouseTwin;
  stop(): Promise<void>;
}

/**
 * The Databricks side of the sandbox: one DuckDB holding the demo metric, inference and payload
 * tables; the workspace twin (REST) and the SQL warehouse twin (Thrift) both over it.
 */
export async function startDatabricksTwins(
  now = new Date(),
  /** Tests pass their simulated clock (and a rollout delay on it) so inference rows share its time. */
  options: { clock?: Clock; rolloutDelayMs?: number } = {},
): Promise<DatabricksTwins> {
  const db = await openSandboxDuckDb();
  await seedDemoTables(db, { now });
  const state = seedDemoWorkspace({ now: now.getTime() });
  // churn_model v5 waits at its deployment job's approval task: the bot asks for it in Slack.
  seedDeploymentDemo(state, now.getTime());
  const workspace = await startWorkspaceTwin({
    state,
    onInference: createPayloadSink(db, state),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.rolloutDelayMs !== undefined ? { rolloutDelayMs: options.rolloutDelayMs } : {}),
    onBatchScore: createBatchScorer(db, state),
  });
  const warehouse = await startWarehouseTwin({ db, token: workspace.token });
  return {
    db,
    workspace,
    warehouse,
    async stop() {
      await warehouse.stop();
      await workspace.stop();
      await db.close();
    },
  };
}

export interface Sandbox {
  bot: RunningBot;
  slack?: SlackTwin;
  /** The local Slack console (on the Slack twin's address) when Slack is the twin. */
  console?: SandboxConsole;
  databricks?: DatabricksTwins;
  /** What to print: which side is local, and where to go. */
  banner: string;
  stop(): Promise<void>;
}

/**
 * Starts the bot with the twins standing in for whatever is not configured.
 *
 * @example const sandbox = await startSandbox(config, policy, logger); console.log(sandbox.banner);
 */
export async function startSandbox(config: AppConfig, policy: Policy, logger: Logger): Promise<Sandbox> {
  const databricks = config.databricks ? undefined : await startDatabricksTwins();
  const tokens: TokenProvider = config.databricks
    ? createTokenProvider(config.databricks.host, config.databricks.auth)
    : staticTokenProvider(databricks!.workspace.token);
  const host = config.databricks?.host ?? databricks!.workspace.url;

  // The twin forgets everything when it stops, so the change history must too.
  const scratch = databricks ? mkdtempSync(join(tmpdir(), 'modelgate-sandbox-')) : undefined;
  const dbPath = scratch ? join(scratch, 'modelgate.db') : config.dbPath;
  // The console is what people open, so it gets the configured port; the bot takes any free one.
  const slack = config.slack.mode === 'sandbox' ? await startConsoleTwin(config.port) : undefined;
  const signingSecret = randomBytes(16).toString('hex');
  const bot = await startBot({
    policy,
    slack:
      config.slack.mode === 'sandbox'
        ? {
            mode: 'http',
            botToken: slack!.botToken,
            signingSecret,
            apiUrl: slack!.apiUrl,
            port: 0,
            host: config.host,
          }
        : config.slack.mode === 'http'
          ? { ...config.slack, port: config.port, host: config.host }
          : config.slack,
    queueLimit: config.queueLimit,
    databricks: { host, tokens },
    dbPath,
    logger,
    ...sandboxWarehouse(config, databricks),
    // Offline: charts are drawn locally; and drift is checked every few minutes so the demo shows it.
    drift: { renderer: 'local', schedule: SANDBOX_DRIFT_SCHEDULE },
    // Canary steps are checked soon after they are due, so a one-minute demo step is seen on time.
    ...(databricks ? { rolloutDriverCron: SANDBOX_ROLLOUT_DRIVER_SCHEDULE } : {}),
  });

  // The canary demo acts on the twin only: traffic to its endpoint and faults of its canary.
  const canaryDemo: CanaryDemo | undefined = databricks
    ? startCanaryDemo({
        workspace: databricks.workspace,
        endpoint: DEMO.endpoint,
        model: DEMO.model,
        canaryOf: async (endpoint) => {
          const holder = await bot.rollouts.store.holderOf(endpoint);
          return holder ? { model: holder.plan.model, version: holder.plan.canary.modelVersion } : undefined;
        },
      })
    : undefined;
  const consolePage =
    slack && bot.eventsUrl
      ? mountConsole(slack, {
          eventsUrl: bot.eventsUrl,
          signingSecret,
          ...(canaryDemo ? { knobs: canaryDemo.knobs } : {}),
        })
      : undefined;

  const lines = [
    'modelgate is running in SANDBOX mode (loopback only).',
    config.databricks
      ? `  Databricks: ${config.databricks.host} (real, from ${config.databricks.source})`
      : `  Databricks: local twin at ${host} with the demo model acme.mlops.churn_model and endpoint churn-endpoint`,
    slack
      ? `  Slack: local twin at ${slack.url}; the bot listens at ${bot.eventsUrl}`
      : `  Slack: real workspace (${config.slack.mode} mode)`,
    ...(consolePage
      ? [
          '',
          `  Open ${consolePage.url} in a browser: the Slack console, as riley, avery or vic.`,
          '  Try /mlops help there; the Sandbox section of the README walks through the demo story.',
        ]
      : []),
  ];
  return {
    bot,
    ...(slack ? { slack } : {}),
    ...(consolePage ? { console: consolePage } : {}),
    ...(databricks ? { databricks } : {}),
    banner: lines.join('\n'),
    async stop() {
      consolePage?.unmount();
      canaryDemo?.stop();
      await bot.stop();
      await slack?.stop();
      await databricks?.stop();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** The Slack twin on the console's port, with a fix in the message when the port is taken. */
async function startConsoleTwin(port: number): Promise<SlackTwin> {
  try {
    return await startSlackTwin({ port });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    throw new Error(
      `port ${port} on 127.0.0.1 is in use, so the sandbox console cannot start there: stop what uses it, or run PORT=${port + 1} npm start`,
    );
  }
}

/** How often the sandbox drives its canary rollouts (every 10 s; production: every minute). */
export const SANDBOX_ROLLOUT_DRIVER_SCHEDULE = '*/10 * * * * *';

/** How often the sandbox runs every drift monitor (a setting: the checks are the production ones). */
export const SANDBOX_DRIFT_SCHEDULE = '*/2 * * * *';

/** The SQL warehouse: the twin's, or the configured one when Databricks is real. */
function sandboxWarehouse(
  config: AppConfig,
  twins: DatabricksTwins | undefined,
): { warehouse?: { host: string; httpPath: string; ca?: string } } {
  if (twins) {
    return {
      warehouse: { host: twins.warehouse.url, httpPath: twins.warehouse.httpPath, ca: twins.warehouse.ca },
    };
  }
  const c = config.databricks;
  if (!c?.warehouseId && !c?.httpPath) return {};
  return {
    warehouse: {
      host: c.host,
      httpPath: warehouseHttpPath({
        DATABRICKS_WAREHOUSE_ID: c.warehouseId,
        DATABRICKS_HTTP_PATH: c.httpPath,
      }),
    },
  };
}
