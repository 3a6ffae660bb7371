/**
 * Ack latency of /mlops: 500 signed slash commands at 20 concurrent against the real bot, side by
 * side with a bare Bolt app that only acks. The bot does its post-ack work meanwhile (Databricks
 * reads, response_url posts); the twins and the load generator each run in a process of their own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBot } from '../src/bot.js';
import { EXAMPLE_POLICY_PATH } from '../src/config/env.js';
import { loadPolicy } from '../src/config/policy.js';
import { staticTokenProvider } from '../src/databricks/auth.js';
import { TEST_SIGNING_SECRET } from '../test/support/slack-requests.js';
import { forkChild, type TwinsReady } from './children.js';
import type { LoadOrder } from './load-process.js';
import { percentile } from './stats.js';
import { bareBoltApp } from './support.js';

const TOTAL = 500;
const CONCURRENCY = 20;
const TEXTS = [
  'status churn-endpoint',
  'models churn_model',
  'help',
  'status',
  'deploy churn_model 3 --dry-run',
];

const child = (file: string) => forkChild(join(import.meta.dirname, file));

export default async function bench() {
  const twins = child('twins-process.ts');
  const driver = child('load-process.ts');
  const { ready } = await twins.next<{ ready: TwinsReady }>();
  await driver.next();
  const load = async (order: Omit<LoadOrder, 'responseUrls'>, total: number) => {
    const minted = twins.next<{ urls: string[] }>();
    twins.proc.send({ mint: total });
    const { urls } = await minted;
    const answer = driver.next<{ durations: number[] }>();
    driver.proc.send({ ...order, responseUrls: urls });
    return (await answer).durations;
  };

  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-'));
  const bot = await startBot({
    policy: loadPolicy(EXAMPLE_POLICY_PATH),
    slack: {
      mode: 'http',
      botToken: ready.botToken,
      signingSecret: TEST_SIGNING_SECRET,
      apiUrl: ready.slackApiUrl,
      port: 0,
      host: '127.0.0.1',
    },
    databricks: { host: ready.workspaceUrl, tokens: staticTokenProvider(ready.workspaceToken) },
    dbPath: join(dir, 'bench.db'),
  });
  const bare = await bareBoltApp((app) =>
    app.command('/mlops', async ({ ack }) => {
      await ack();
    }),
  );
  try {
    const order = (url: string): Omit<LoadOrder, 'responseUrls'> => ({
      url,
      kind: 'command',
      texts: TEXTS,
      concurrency: CONCURRENCY,
    });
    // The bare app shares this process: measure it only once the bot has answered every command
    // it acked (one response_url reply each), or its backlog would be timed as the bare app's.
    const settled = async (replies: number) => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const counted = twins.next<{ answered: number }>();
        twins.proc.send({ answered: true });
        const { answered } = await counted;
        if (answered >= replies) break;
        if (Date.now() > deadline) throw new Error(`the bot answered ${answered} of ${replies} commands`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await bot.pipeline.idle();
    };
    await load(order(bot.eventsUrl!), 50);
    await settled(50);
    await load(order(bare.url), 50);
    const botTimes = await load(order(bot.eventsUrl!), TOTAL);
    await settled(50 + TOTAL);
    const bareTimes = await load(order(bare.url), TOTAL);
    const clicks = await load({ ...order(bot.eventsUrl!), kind: 'click' }, 100);
    const rss = process.memoryUsage().rss / 1024 / 1024;
    const p = (a: number[], q: number) => `${percentile(a, q).toFixed(1)} ms`;
    const ratio = percentile(botTimes, 99) / percentile(bareTimes, 99);
    return [
      { name: `/mlops ack p50 (${TOTAL} at ${CONCURRENCY} concurrent)`, value: p(botTimes, 50) },
      { name: '/mlops ack p99', value: p(botTimes, 99), target: '< 50 ms' },
      { name: 'bare Bolt app ack p50', value: p(bareTimes, 50) },
      { name: 'bare Bolt app ack p99', value: p(bareTimes, 99) },
      { name: 'p99 ratio modelgate / bare', value: `${ratio.toFixed(2)}×`, target: '≤ 1.5×' },
      { name: 'button click ack p99 (100 clicks)', value: p(clicks, 99) },
      { name: 'resident memory of the bot process after the run', value: `${rss.toFixed(0)} MB` },
    ];
  } finally {
    await bare.stop();
    await bot.stop();
    twins.proc.disconnect();
    driver.proc.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}
