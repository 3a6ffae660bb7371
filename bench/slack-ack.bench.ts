/**
 * Ack latency of /mlops: signed slash commands (500 at 20 concurrent per round, BENCH_COMMANDS to
 * change) against the real bot and against a bare Bolt app that only acks, in alternating rounds
 * (BENCH_ROUNDS, default 5 each). The bot does its post-ack work meanwhile (Databricks reads,
 * response_url posts) and finishes it before the next round. The bot, the bare app, the twins and
 * the load generator each run in a process of their own.
 */
import { join } from 'node:path';
import { type CallableChild, forkCallable, forkChild, type TwinsReady } from './children.js';
import type { LoadOrder } from './load-process.js';
import { pooled, ROUNDS, ratioRows, roundOrder, type Side } from './rounds.js';
import type { Meter } from './server-process.js';
import { percentile } from './stats.js';

const TOTAL = Number(process.env.BENCH_COMMANDS ?? 500);
const WARMUP = Math.min(50, TOTAL);
const CLICKS = Math.min(100, TOTAL);
const CONCURRENCY = 20;
const TEXTS = [
  'status churn-endpoint',
  'models churn_model',
  'help',
  'status',
  'deploy churn_model 3 --dry-run',
];

const child = (file: string) => forkChild(join(import.meta.dirname, file));
const server = (side: Side) =>
  forkCallable(join(import.meta.dirname, 'server-process.ts'), { BENCH_SERVER: side });

export default async function bench() {
  const twins = child('twins-process.ts');
  const driver = child('load-process.ts');
  const servers: Record<Side, CallableChild> = { bot: server('bot'), bare: server('bare') };
  try {
    const { ready } = await twins.next<{ ready: TwinsReady }>();
    await driver.next();
    const urls: Record<Side, string> = {
      bot: await servers.bot.call<string>('start', ready, {}),
      bare: await servers.bare.call<string>('start', ready, { bareAcks: ['/mlops'] }),
    };
    const load = async (order: Omit<LoadOrder, 'responseUrls'>, total: number) => {
      const minted = twins.next<{ urls: string[] }>();
      twins.proc.send({ mint: total });
      const { urls } = await minted;
      const answer = driver.next<{ durations: number[] }>();
      driver.proc.send({ ...order, responseUrls: urls });
      return (await answer).durations;
    };
    const order = (side: Side): Omit<LoadOrder, 'responseUrls'> => ({
      url: urls[side],
      kind: 'command',
      texts: TEXTS,
      concurrency: CONCURRENCY,
    });
    // Every round starts on a quiet machine: the bot has answered every command it acked (one
    // response_url reply each) and its background work is done.
    let replies = 0;
    const settled = async () => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const counted = twins.next<{ answered: number }>();
        twins.proc.send({ answered: true });
        const { answered } = await counted;
        if (answered >= replies) break;
        if (Date.now() > deadline) throw new Error(`the bot answered ${answered} of ${replies} commands`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await servers.bot.call('idle');
    };
    // One round: the same load and the same metering on either side.
    const round = async (side: Side, total: number, label: string) => {
      await servers[side].call('meterStart');
      const durations = await load(order(side), total);
      await servers[side].call('cutProfile', `${label}-acks`);
      if (side === 'bot') {
        replies += total;
        await settled();
      }
      const meter = await servers[side].call<Meter>('meterStop', label);
      return { durations, meter };
    };

    // Warm-up, the same for both sides: JIT, sockets, caches.
    await round('bot', WARMUP, 'warmup-bot');
    await round('bare', WARMUP, 'warmup-bare');
    const times: Record<Side, number[][]> = { bot: [], bare: [] };
    const meters: Record<Side, Meter[]> = { bot: [], bare: [] };
    for (const { side, round: r } of roundOrder(ROUNDS)) {
      const { durations, meter } = await round(side, TOTAL, `commands-${side}-${r}`);
      times[side][r] = durations;
      meters[side][r] = meter;
    }
    const clicks = await load({ ...order('bot'), kind: 'click' }, CLICKS);
    const rss = await servers.bot.call<number>('rss');
    const bot = pooled(times.bot);
    const bare = pooled(times.bare);
    const p = (a: number[], q: number) => `${percentile(a, q).toFixed(1)} ms`;
    const perCommand = (side: Side) =>
      `${(meters[side].reduce((a, m) => a + m.cpuMs, 0) / (ROUNDS * TOTAL)).toFixed(2)} ms`;
    const worstDelay = (side: Side) =>
      `${Math.max(...meters[side].map((m) => m.loopDelayMaxMs)).toFixed(1)} ms`;
    return [
      {
        name: `/mlops ack p50, all rounds (${ROUNDS} × ${TOTAL} at ${CONCURRENCY} concurrent)`,
        value: p(bot, 50),
      },
      { name: '/mlops ack p99, all rounds', value: p(bot, 99), target: '< 50 ms' },
      { name: 'bare Bolt app ack p50 / p99, all rounds', value: `${p(bare, 50)} / ${p(bare, 99)}` },
      ...ratioRows('/mlops ack', times.bot, times.bare),
      {
        name: 'CPU per command, modelgate / bare (incl. post-ack work)',
        value: `${perCommand('bot')} / ${perCommand('bare')}`,
      },
      {
        name: 'event-loop delay max, worst round, modelgate / bare',
        value: `${worstDelay('bot')} / ${worstDelay('bare')}`,
      },
      { name: `button click ack p99 (${CLICKS} clicks)`, value: p(clicks, 99) },
      { name: 'resident memory of the bot process after the run', value: `${rss.toFixed(0)} MB` },
    ];
  } finally {
    await Promise.allSettled([servers.bot.call('stop'), servers.bare.call('stop')]);
    for (const c of [twins.proc, driver.proc, servers.bot.proc, servers.bare.proc])
      if (c.connected) c.disconnect();
  }
}
