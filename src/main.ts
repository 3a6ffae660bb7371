/**
 * `npm start`: parse the environment and the policy once, build the real adapters (or the twins
 * for whatever is not configured), start the bot, and stop cleanly on SIGTERM. No logic here.
 */

import { ConfigError } from './config/databricks-connection.js';
import { describeConfig, formatConfigError } from './config/env.js';
import { loadConfig } from './config/load.js';
import { createTokenProvider } from './databricks/auth.js';
import { warehouseHttpPath } from './databricks/warehouse.js';
import { isUserError } from './domain/errors.js';
import { createLogger } from './lib/logger.js';
import { describeError } from './slack/blocks/errors.js';
import { StoreLockedError } from './storage/process-lock.js';
import { type RunningBot, startBot } from './wiring/bot.js';

let loaded: ReturnType<typeof loadConfig>;
try {
  loaded = loadConfig(process.env);
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.error(formatConfigError(e));
  process.exit(1);
}
const { config, policy } = loaded;
const logger = createLogger(config.logLevel);
logger.info(describeConfig(config));

let stop: () => Promise<void> = async () => {};
try {
  if (config.slack.mode === 'sandbox' || !config.databricks) {
    // Loaded only here: the twins bring DuckDB, Thrift and Arrow (tens of MB) that production never needs.
    const { startSandbox } = await import('./sandbox/start.js');
    const sandbox = await startSandbox(config, policy, logger);
    console.log(sandbox.banner);
    stop = sandbox.stop;
  } else {
    const { host, auth } = config.databricks;
    const bot: RunningBot = await startBot({
      policy,
      slack:
        config.slack.mode === 'http'
          ? { ...config.slack, port: config.port, host: config.host }
          : config.slack,
      queueLimit: config.queueLimit,
      databricks: { host, tokens: createTokenProvider(host, auth) },
      dbPath: config.dbPath,
      ...(config.database.kind === 'postgres' ? { postgres: config.database.postgres } : {}),
      store: { waitMs: config.storeWaitMs },
      ...(config.lakebase ? { lakebase: config.lakebase } : {}),
      // Socket Mode has no listener of its own: /healthz gets a small server when a port is set.
      ...(config.slack.mode === 'socket' && config.healthPort !== undefined
        ? { health: { port: config.healthPort, host: config.host } }
        : {}),
      logger,
      ...(config.databricks.warehouseId || config.databricks.httpPath
        ? {
            warehouse: {
              host,
              httpPath: warehouseHttpPath({
                DATABRICKS_WAREHOUSE_ID: config.databricks.warehouseId,
                DATABRICKS_HTTP_PATH: config.databricks.httpPath,
              }),
            },
          }
        : {}),
    });
    logger.info(
      `modelgate is running (${config.slack.mode} mode)${bot.eventsUrl ? ` at ${bot.eventsUrl}` : ''}${
        bot.healthUrl ? `; health at ${bot.healthUrl}` : ''
      }`,
    );
    stop = bot.stop;
  }
} catch (e) {
  // A store held by another live process, or a setting the adapters refuse: what and how to fix,
  // not a stack trace.
  if (e instanceof StoreLockedError) {
    console.error(e.message);
    process.exit(1);
  }
  if (!isUserError(e)) throw e;
  const words = describeError(e);
  console.error(`modelgate cannot start: ${words.text}${words.hint ? `\n${words.hint}` : ''}`);
  process.exit(1);
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: stopping`);
    stop().then(
      () => process.exit(0),
      (e: unknown) => {
        logger.error('stop failed:', e);
        process.exit(1);
      },
    );
  });
}
