/**
 * Sandbox mode: each side that has no credentials falls back to its local twin, bound to
 * 127.0.0.1. The bot itself is the production bot; only the addresses it talks to differ.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningBot, startBot } from '../bot.js';
import type { AppConfig } from '../config/env.js';
import type { Policy } from '../config/policy.js';
import { createTokenProvider, staticTokenProvider, type TokenProvider } from '../databricks/auth.js';
import type { Logger } from '../logger.js';
import { seedDemoTables } from './demo-tables.js';
import { openSandboxDuckDb, type SandboxDb } from './duckdb.js';
import { createPayloadSink } from './inference-sink.js';
import { type SlackTwin, startSlackTwin } from './slack/index.js';
import { startWarehouseTwin, type WarehouseTwin } from './warehouse/index.js';
import { seedDemoWorkspace } from './workspace/demo.js';
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
export async function startDatabricksTwins(now = new Date()): Promise<DatabricksTwins> {
  const db = await openSandboxDuckDb();
  await seedDemoTables(db, { now });
  const state = seedDemoWorkspace({ now: now.getTime() });
  const workspace = await startWorkspaceTwin({ state, onInference: createPayloadSink(db, state) });
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
  const slack = config.slack.mode === 'sandbox' ? await startSlackTwin() : undefined;
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
            port: config.port,
            host: '127.0.0.1',
          }
        : config.slack.mode === 'http'
          ? { ...config.slack, port: config.port }
          : config.slack,
    databricks: { host, tokens },
    dbPath,
    logger,
  });

  const lines = [
    'modelgate is running in SANDBOX mode (loopback only).',
    config.databricks
      ? `  Databricks: ${config.databricks.host} (real, from ${config.databricks.source})`
      : `  Databricks: local twin at ${host} with the demo model acme.mlops.churn_model and endpoint churn-endpoint`,
    slack
      ? `  Slack: local twin at ${slack.url}; the bot listens at ${bot.eventsUrl}`
      : `  Slack: real workspace (${config.slack.mode} mode)`,
  ];
  return {
    bot,
    ...(slack ? { slack } : {}),
    ...(databricks ? { databricks } : {}),
    banner: lines.join('\n'),
    async stop() {
      await bot.stop();
      await slack?.stop();
      await databricks?.stop();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    },
  };
}
