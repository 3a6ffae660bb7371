/**
 * Approvals under load: 100 retraining requests, each clicked Approve by 10 approvers at the same
 * moment, one request after another (BENCH_WAVE=10 clicks 10 requests at a time: 100 clicks in
 * flight), against the real bot. Figures: how many executions ran (exactly 100: one job run per
 * request, whatever the clicks) and the click-to-ack latency, next to a bare Bolt app acking the
 * same clicks. The gate needs 2 of the 10 approvers, so per request one click wins, one more is
 * recorded and the rest are refused. The twins and the load generator run in processes of their
 * own (this file forked with BENCH_ROLE=twins|load), so the latency is the bot's event loop alone; the
 * load generator posts over node:http rather than fetch so that it takes little CPU from the bot.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startBot } from '../src/bot.js';
import { EXAMPLE_POLICY_PATH } from '../src/config/env.js';
import { loadPolicy } from '../src/config/policy.js';
import { staticTokenProvider } from '../src/databricks/auth.js';
import {
  APPROVALS_CHANNEL_ID,
  createDefaultSlackSeed,
  REQUESTER_USER_ID,
  startSlackTwin,
} from '../src/sandbox/slack/index.js';
import { DEMO, seedDemoWorkspace } from '../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin } from '../src/sandbox/workspace/server.js';
import { ACTION_APPROVAL_APPROVE } from '../src/slack/blocks/action-ids.js';
import { blockAction, TEST_SIGNING_SECRET } from '../test/support/slack-requests.js';
import { announceTwins, forkChild, type TwinsReady } from './children.js';
import { percentile } from './stats.js';
import { bareBoltApp, createPoster } from './support.js';

const REQUESTS = 100;
const APPROVERS = 10;
const REQUIRED = 2;
/** Requests clicked at the same time; each gets its 10 clicks at once. */
const WAVE = Number(process.env.BENCH_WAVE ?? 1);
const FIRST_JOB = 5001;
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
  // One job per request: two pending requests for the same job would be one request.
  for (let i = 0; i < REQUESTS; i++) {
    state.jobs.set(FIRST_JOB + i, { ...template, job_id: FIRST_JOB + i, name: `retrain-${i}` });
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

export default async function bench() {
  const twins = child('twins');
  const load = child('load');
  const { ready } = await twins.next<{ ready: TwinsReady }>();
  await load.next();

  const policy = loadPolicy(EXAMPLE_POLICY_PATH);
  policy.gates!.retrain = {
    approvers: { users: approverIds, groups: [] },
    approvals: REQUIRED,
    expiresAfter: 86_400_000,
  };
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-'));
  const bot = await startBot({
    policy,
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
    slackRetries: { retries: 0 },
    approvalWait: { initialDelayMs: 1_000, maxDelayMs: 2_000, timeoutMs: 120_000 },
    approvalExpiryCron: false,
  });
  try {
    const requests: Array<{ id: string; ts: string }> = [];
    for (let i = 0; i < REQUESTS; i++) {
      await bot.approvals.requestRetrain({
        model: DEMO.model,
        jobId: FIRST_JOB + i,
        reason: `bench ${i}`,
        actor: { userId: REQUESTER_USER_ID },
        origin: { channelId: APPROVALS_CHANNEL_ID },
      });
    }
    for (const r of bot.approvals.pending()) if (r.message) requests.push({ id: r.id, ts: r.message.ts });
    if (requests.length !== REQUESTS)
      throw new Error(`expected ${REQUESTS} requests, got ${requests.length}`);

    const minted = twins.next<{ urls: string[] }>();
    twins.proc.send({ mint: requests.flatMap((r) => approverIds.map((user) => ({ ts: r.ts, user }))) });
    const { urls } = await minted;
    const answered = load.next<{ durations: number[] }>();
    // What the bot's process spends while the clicks arrive and the requests execute.
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    load.proc.send({ url: bot.eventsUrl!, requests, responseUrls: urls } satisfies ClickOrder);
    const { durations } = await answered;

    // Every request ends (executed or failed) before counting.
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      await bot.approvals.idle();
      const open = requests.filter((r) => {
        const s = bot.store.approvals.get(r.id)?.status;
        return s === 'pending' || s === 'approved' || s === 'executing';
      });
      if (open.length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const allDone = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    loopDelay.disable();
    const statuses = requests.map((r) => bot.store.approvals.get(r.id)?.status);
    const executed = statuses.filter((s) => s === 'executed').length;
    const executions = requests.reduce(
      (n, r) => n + bot.store.recentAudit({ changeId: r.id, action: 'executing', limit: 10 }).length,
      0,
    );
    // The same clicks against a Bolt app that only acks, on the same machine right after.
    const bare = await bareBoltApp((app) =>
      app.action(ACTION_APPROVAL_APPROVE, async ({ ack }) => {
        await ack();
      }),
    );
    const mintedAgain = twins.next<{ urls: string[] }>();
    twins.proc.send({ mint: requests.flatMap((r) => approverIds.map((user) => ({ ts: r.ts, user }))) });
    const again = await mintedAgain;
    const bareAnswered = load.next<{ durations: number[] }>();
    load.proc.send({ url: bare.url, requests, responseUrls: again.urls } satisfies ClickOrder);
    const bareDurations = (await bareAnswered).durations;
    await bare.stop();
    const counted = twins.next<{ runNow: number; runs: number }>();
    twins.proc.send({ count: true });
    const { runNow, runs } = await counted;
    const p = (q: number, d = durations) => `${percentile(d, q).toFixed(1)} ms`;
    return [
      {
        name: `executions (${REQUESTS} requests × ${APPROVERS} concurrent approvers, ${REQUIRED} needed)`,
        value: String(executions),
        target: `exactly ${REQUESTS}`,
      },
      { name: 'requests executed', value: `${executed} of ${REQUESTS}` },
      {
        name: 'job runs started (run-now calls)',
        value: `${runs} (${runNow})`,
        target: `${REQUESTS} (${REQUESTS})`,
      },
      { name: `click-to-ack p50 (${durations.length} clicks, ${WAVE * APPROVERS} in flight)`, value: p(50) },
      { name: 'click-to-ack p99', value: p(99), target: '< 50 ms' },
      { name: 'click-to-ack max', value: p(100) },
      {
        name: 'bare Bolt app, same clicks: ack p50 / p99',
        value: `${p(50, bareDurations)} / ${p(99, bareDurations)}`,
      },
      {
        name: 'p99 ratio modelgate / bare',
        value: `${(percentile(durations, 99) / percentile(bareDurations, 99)).toFixed(2)}×`,
      },
      { name: 'first click to last execution ended', value: `${(allDone / 1000).toFixed(1)} s` },
      {
        name: 'bot CPU over that time (per request)',
        value: `${((cpu.user + cpu.system) / 1000).toFixed(0)} ms (${((cpu.user + cpu.system) / 1000 / REQUESTS).toFixed(1)} ms)`,
      },
      {
        name: 'bot event-loop delay p99 / max',
        value: `${(loopDelay.percentile(99) / 1e6).toFixed(1)} / ${(loopDelay.max / 1e6).toFixed(1)} ms`,
      },
    ];
  } finally {
    await bot.stop();
    twins.proc.disconnect();
    load.proc.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}
