/**
 * Approvals under load: 100 retraining requests per round (BENCH_REQUESTS to change), each
 * clicked Approve by 10 approvers at the same moment, one request after another (BENCH_WAVE=10
 * clicks 10 requests at a time: 100 clicks in flight), against the real bot, and the same clicks
 * against a bare Bolt app that only acks, in alternating rounds (BENCH_ROUNDS, default 5 each).
 * Figures: how many executions ran (exactly one job run per request, whatever the clicks) and the
 * click-to-ack latency as a ratio to the bare app's. The gate needs 2 of the 10 approvers, so per
 * request one click wins, one more is recorded and the rest are refused. The bot, the bare app,
 * the twins and the load generator each run in a process of their own (this file forked with
 * BENCH_ROLE=twins|load for the last two); the load generator posts over node:http rather than
 * fetch so that it takes little CPU from the app it times.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APPROVALS_CHANNEL_ID, createDefaultSlackSeed, startSlackTwin } from '../src/sandbox/slack/index.js';
import { DEMO, seedDemoWorkspace } from '../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin } from '../src/sandbox/workspace/server.js';
import { ACTION_APPROVAL_APPROVE } from '../src/slack/blocks/action-ids.js';
import { blockAction } from '../test/support/slack-requests.js';
import { announceTwins, type CallableChild, forkCallable, forkChild, type TwinsReady } from './children.js';
import { median, pooled, ROUNDS, ratioRows, roundOrder, type Side } from './rounds.js';
import type { Meter } from './server-process.js';
import { percentile } from './stats.js';
import { createPoster } from './support.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100);
/** Requests in the warm-up round of each side. */
const WARMUP = Math.min(10, REQUESTS);
const APPROVERS = 10;
const REQUIRED = 2;
/** Requests clicked at the same time; each gets its 10 clicks at once. */
const WAVE = Number(process.env.BENCH_WAVE ?? 1);
const FIRST_JOB = 5001;
/** Set k (0: the bot's warm-up, then one per bot round) uses its own jobs and its own model. */
const jobOf = (set: number, i: number) => FIRST_JOB + set * REQUESTS + i;
const modelOf = (set: number) => `${DEMO.model}_${set}`;
const approverIds = Array.from({ length: APPROVERS }, (_, i) => `U0APPR${String(i).padStart(2, '0')}`);

interface ClickOrder {
  url: string;
  requests: Array<{ id: string; ts: string }>;
  /** One response URL per click, request by request. */
  responseUrls: string[];
}

// ---------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------

async function twinsProcess(): Promise<void> {
  const seed = createDefaultSlackSeed();
  for (const id of approverIds) {
    seed.users.push({ id, name: id.toLowerCase(), realName: `Approver ${id}` });
    for (const c of seed.channels) c.members.push(id);
  }
  const slack = await startSlackTwin({ seed });
  const state = seedDemoWorkspace();
  const template = state.jobs.get(DEMO.jobId)!;
  const model = state.models.get(DEMO.model)!;
  // One job per request: two pending requests for the same job would be one request. Each set
  // retrains a model of its own, so a later round's version lookups list no more versions than
  // the first round's (the rounds stay alike).
  for (let set = 0; set <= ROUNDS; set++) {
    const name = modelOf(set);
    state.models.set(name, {
      ...model,
      name: name.split('.').at(-1)!,
      versions: new Map(model.versions),
      aliases: new Map(model.aliases),
    });
    for (let i = 0; i < REQUESTS; i++) {
      const job_id = jobOf(set, i);
      state.jobs.set(job_id, {
        ...template,
        job_id,
        name: `retrain-${set}-${i}`,
        registers_model: name,
        parameters: template.parameters.map((p) => (p.name === 'model_name' ? { ...p, default: name } : p)),
      });
    }
  }
  // Lists page as Databricks pages them for the bot's max_results=100, not 2 at a time: 100
  // retrainings of one model make 100+ versions, and the version lookup lists them all.
  const workspace = await startWorkspaceTwin({
    state,
    rolloutDelayMs: 50,
    jobQueueMs: 10,
    jobRunMs: 50,
    listPageSize: 100,
  });
  process.on('message', (m: { mint?: Array<{ ts: string; user: string }>; count?: true }) => {
    if (m.mint) {
      const urls = m.mint.map((t) =>
        slack.createResponseUrl({ channel: APPROVALS_CHANNEL_ID, user: t.user, messageTs: t.ts }),
      );
      process.send?.({ urls });
    } else if (m.count) {
      const runNow = workspace.requests.filter(
        (r) => r.method === 'POST' && r.path.endsWith('/run-now'),
      ).length;
      const runs = [...workspace.state.runs.values()].filter((r) => r.job_id >= FIRST_JOB).length;
      process.send?.({ runNow, runs });
    }
  });
  announceTwins(slack, workspace);
}

async function loadProcess(): Promise<void> {
  process.on('message', async (order: ClickOrder) => {
    // Built and signed before timing, so the figure is the server's, not the client's.
    const clicks = order.requests.map((r, i) =>
      approverIds.map((user, j) =>
        blockAction({
          action_id: ACTION_APPROVAL_APPROVE,
          value: r.id,
          user,
          channel: APPROVALS_CHANNEL_ID,
          message_ts: r.ts,
          response_url: order.responseUrls[i * APPROVERS + j]!,
        }),
      ),
    );
    const durations: number[] = [];
    const poster = createPoster(order.url);
    for (let w = 0; w < clicks.length; w += WAVE) {
      const wave = clicks.slice(w, w + WAVE).flat();
      await Promise.all(
        wave.map(async (request) => {
          const t = performance.now();
          const status = await poster.post(request);
          durations.push(performance.now() - t);
          if (status !== 200) throw new Error(`HTTP ${status}`);
        }),
      );
    }
    poster.close();
    process.send?.({ durations: durations.sort((a, b) => a - b) });
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true });
}

if (process.env.BENCH_ROLE === 'twins') await twinsProcess();
if (process.env.BENCH_ROLE === 'load') await loadProcess();

// ---------------------------------------------------------------------------------------------
// The bench
// ---------------------------------------------------------------------------------------------

const child = (role: 'twins' | 'load') => forkChild(fileURLToPath(import.meta.url), { BENCH_ROLE: role });
const server = (side: Side) =>
  forkCallable(join(import.meta.dirname, 'server-process.ts'), { BENCH_SERVER: side });

interface Round {
  durations: number[];
  meter: Meter;
  /** Bot rounds: first click to the last execution ended, in ms. */
  allDone?: number;
  executions?: number;
  executed?: number;
}

export default async function bench() {
  const twins = child('twins');
  const load = child('load');
  const servers: Record<Side, CallableChild> = { bot: server('bot'), bare: server('bare') };
  try {
    const { ready } = await twins.next<{ ready: TwinsReady }>();
    await load.next();
    const urls: Record<Side, string> = {
      bot: await servers.bot.call<string>('start', ready, {
        retrainGate: { approvers: approverIds, approvals: REQUIRED },
      }),
      bare: await servers.bare.call<string>('start', ready, { bareAcks: [ACTION_APPROVAL_APPROVE] }),
    };

    // The bare app's clicks carry the ids and message ts of the bot's latest requests, so both
    // sides get requests of the same shape and size.
    let latest: Array<{ id: string; ts: string }> = [];
    const round = async (side: Side, set: number, count: number, label: string): Promise<Round> => {
      let requests: Array<{ id: string; ts: string }>;
      if (side === 'bot') {
        const items = Array.from({ length: count }, (_, i) => ({
          model: modelOf(set),
          jobId: jobOf(set, i),
          reason: `bench ${set}-${i}`,
        }));
        requests = await servers.bot.call('requestRetrains', items);
        if (requests.length !== count) throw new Error(`expected ${count} requests, got ${requests.length}`);
        latest = requests;
      } else {
        requests = Array.from({ length: count }, (_, i) => latest[i % latest.length]!);
      }
      const minted = twins.next<{ urls: string[] }>();
      twins.proc.send({ mint: requests.flatMap((r) => approverIds.map((user) => ({ ts: r.ts, user }))) });
      const { urls: responseUrls } = await minted;
      const answered = load.next<{ durations: number[] }>();
      await servers[side].call('meterStart');
      const started = performance.now();
      load.proc.send({ url: urls[side], requests, responseUrls } satisfies ClickOrder);
      const { durations } = await answered;
      await servers[side].call('cutProfile', `${label}-acks`);
      if (side === 'bare') return { durations, meter: await servers.bare.call<Meter>('meterStop', label) };
      // Every request ends (executed or failed) before counting, and before the next round.
      const ids = requests.map((r) => r.id);
      await servers.bot.call('awaitFinal', ids, 120_000);
      const allDone = performance.now() - started;
      const meter = await servers.bot.call<Meter>('meterStop', label);
      const { statuses, executions } = await servers.bot.call<{
        statuses: Array<string | undefined>;
        executions: number;
      }>('outcomes', ids);
      return {
        durations,
        meter,
        allDone,
        executions,
        executed: statuses.filter((s) => s === 'executed').length,
      };
    };

    // Warm-up, the same for both sides: JIT, sockets, caches.
    await round('bot', 0, WARMUP, 'warmup-bot');
    await round('bare', 0, WARMUP, 'warmup-bare');
    const rounds: Record<Side, Round[]> = { bot: [], bare: [] };
    for (const { side, round: r } of roundOrder(ROUNDS)) {
      rounds[side][r] = await round(side, r + 1, REQUESTS, `clicks-${side}-${r}`);
    }
    const counted = twins.next<{ runNow: number; runs: number }>();
    twins.proc.send({ count: true });
    const { runNow, runs } = await counted;

    const bot = rounds.bot;
    const times = (side: Side) => rounds[side].map((r) => r.durations);
    const all = pooled(times('bot'));
    const bare = pooled(times('bare'));
    const p = (q: number, d = all) => `${percentile(d, q).toFixed(1)} ms`;
    const each = (f: (r: Round) => number | undefined) => bot.map((r) => String(f(r))).join(' · ');
    const started = WARMUP + ROUNDS * REQUESTS;
    const cpuPerRequest = median(bot.map((r) => r.meter.cpuMs / REQUESTS));
    return [
      {
        name: `executions per round (${REQUESTS} requests × ${APPROVERS} concurrent approvers, ${REQUIRED} needed)`,
        value: each((r) => r.executions),
        target: `exactly ${REQUESTS} each`,
      },
      { name: 'requests executed per round', value: each((r) => r.executed) },
      {
        name: 'job runs started, all rounds and warm-up (run-now calls)',
        value: `${runs} (${runNow})`,
        target: `${started} (${started})`,
      },
      {
        name: `click-to-ack p50, all rounds (${ROUNDS} × ${REQUESTS * APPROVERS} clicks, ${WAVE * APPROVERS} in flight)`,
        value: p(50),
      },
      { name: 'click-to-ack p99, all rounds', value: p(99), target: '< 50 ms' },
      { name: 'click-to-ack max', value: p(100) },
      {
        name: 'bare Bolt app, same clicks: ack p50 / p99, all rounds',
        value: `${p(50, bare)} / ${p(99, bare)}`,
      },
      ...ratioRows('click-to-ack', times('bot'), times('bare')),
      {
        name: 'first click to last execution ended, median of rounds',
        value: `${(median(bot.map((r) => r.allDone!)) / 1000).toFixed(1)} s`,
      },
      {
        name: 'bot CPU per request over that time, median of rounds (bare app, acks only)',
        value: `${cpuPerRequest.toFixed(1)} ms (${median(rounds.bare.map((r) => r.meter.cpuMs / REQUESTS)).toFixed(1)} ms)`,
      },
      {
        name: 'bot event-loop delay p99 / max, worst round',
        value: `${Math.max(...bot.map((r) => r.meter.loopDelayP99Ms)).toFixed(1)} / ${Math.max(...bot.map((r) => r.meter.loopDelayMaxMs)).toFixed(1)} ms`,
      },
    ];
  } finally {
    await Promise.allSettled([servers.bot.call('stop'), servers.bare.call('stop')]);
    for (const c of [twins.proc, load.proc, servers.bot.proc, servers.bare.proc])
      if (c.connected) c.disconnect();
  }
}
