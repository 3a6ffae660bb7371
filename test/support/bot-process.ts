/**
 * One bot process for the owned-work tests: the real startBot against twins the test runs, on the
 * store file the test names. Started with `node --import tsx test/support/bot-process.ts`; the
 * settings come as JSON in BOT_PROCESS. Prints one line `{"ready": eventsUrl, "instance": …}` once
 * it listens; a store held by another process ends it with exit code 3 and the refusal on stderr.
 * SIGTERM stops it cleanly (exit 0); the tests also kill it with SIGKILL.
 */
import { loadPolicy } from '../../src/config/policy.js';
import { staticTokenProvider } from '../../src/databricks/auth.js';
import { createLogger } from '../../src/lib/logger.js';
import { StoreLockedError } from '../../src/storage/process-lock.js';
import { startBot } from '../../src/wiring/bot.js';
import { TEST_SIGNING_SECRET } from './slack-requests.js';

/** What a test passes to a bot process. */
export interface BotProcessSettings {
  policyPath: string;
  dbPath: string;
  workspace: { url: string; token: string };
  slack: { apiUrl: string; botToken: string };
  leaseMs: number;
  heartbeatMs: number;
  waitMs: number;
}

const s = JSON.parse(process.env.BOT_PROCESS ?? '{}') as BotProcessSettings;
try {
  const bot = await startBot({
    policy: loadPolicy(s.policyPath),
    slack: {
      mode: 'http',
      botToken: s.slack.botToken,
      signingSecret: TEST_SIGNING_SECRET,
      apiUrl: s.slack.apiUrl,
      port: 0,
      host: '127.0.0.1',
    },
    databricks: { host: s.workspace.url, tokens: staticTokenProvider(s.workspace.token) },
    dbPath: s.dbPath,
    slackRetries: { retries: 0 },
    rolloutWait: { initialDelayMs: 20, maxDelayMs: 50, timeoutMs: 20_000 },
    approvalExpiryCron: false,
    drift: { schedule: false },
    store: { leaseMs: s.leaseMs, heartbeatMs: s.heartbeatMs, waitMs: s.waitMs, takeoverCron: false },
    logger: createLogger(process.env.TEST_LOG ? 'debug' : 'warn'),
  });
  process.stdout.write(`${JSON.stringify({ ready: bot.eventsUrl, instance: bot.identity.instance })}\n`);
  process.on('SIGTERM', () => {
    bot.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
} catch (e) {
  if (e instanceof StoreLockedError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(3);
  }
  throw e;
}
