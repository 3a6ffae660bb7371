/**
 * Slack outbox: how long after Slack recovers the messages owed during an outage arrive. The real
 * outbox (default backoff: 1 s doubling, capped at 30 s; a probe every 5 s while backing off) over the real Web API client against the
 * Slack twin. BENCH_OUTBOX_MESSAGES (default 100) messages are posted and updated 3 times each
 * while every chat call answers 503 for BENCH_OUTBOX_OUTAGE_MS (default 20 s); then Slack
 * recovers. Baseline, in the same run: the same messages delivered with Slack up (post to arrival).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webApi } from '@slack/bolt';
import { createChangeStore } from '../src/changes/store.js';
import { systemClock } from '../src/lib/clock.js';
import { silentLogger } from '../src/lib/logger.js';
import { createOutbox } from '../src/outbox/outbox.js';
import { createOutboxStore } from '../src/outbox/store.js';
import { APPROVALS_CHANNEL_ID, MLOPS_CHANNEL_ID, startSlackTwin } from '../src/sandbox/slack/index.js';
import { buildUndeliveredNotice } from '../src/slack/blocks/undelivered.js';
import { createSlackDelivery, createSlackFallback } from '../src/slack/messenger.js';
import { openDatabase } from '../src/storage/database.js';
import type { BenchRow } from './run.js';
import { percentile } from './stats.js';

const MESSAGES = Number(process.env.BENCH_OUTBOX_MESSAGES ?? 100);
const OUTAGE_MS = Number(process.env.BENCH_OUTBOX_OUTAGE_MS ?? 20_000);
const CHANNELS = [MLOPS_CHANNEL_ID, APPROVALS_CHANNEL_ID];

export default async function outboxBench(): Promise<BenchRow[]> {
  const twin = await startSlackTwin();
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-outbox-'));
  const db = openDatabase(join(dir, 'bench.db'));
  const client = new webApi.WebClient(twin.botToken, {
    slackApiUrl: twin.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
  const changes = createChangeStore(db, systemClock);
  const outbox = createOutbox({
    store: createOutboxStore(db, systemClock),
    slack: createSlackDelivery(client),
    fallback: createSlackFallback(client),
    views: { undelivered: buildUndeliveredNotice },
    audit: (e) => changes.audit(e),
    clock: systemClock,
    logger: silentLogger,
  });
  /** When the twin first showed each message's final text (ms, performance clock). */
  const arrived = new Map<string, number>();
  twin.subscribe((change) => {
    const m = (change as { message?: { text?: string } }).message;
    if (m?.text && !arrived.has(m.text)) arrived.set(m.text, performance.now());
  });
  const text = (phase: string, i: number, step: number) => `${phase} ${i}: step ${step}`;
  try {
    await outbox.start();

    // Baseline: Slack up, post to arrival.
    const sentAt = new Map<string, number>();
    await Promise.all(
      Array.from({ length: MESSAGES }, async (_, i) => {
        const t = text('up', i, 0);
        sentAt.set(t, performance.now());
        await outbox.messenger.post(CHANNELS[i % CHANNELS.length]!, { text: t });
      }),
    );
    await outbox.settled();
    const baseline = [...sentAt].map(([t, at]) => (arrived.get(t) ?? Number.NaN) - at).sort((a, b) => a - b);

    // Outage: every chat call fails while messages are posted and updated.
    twin.failNext('chat.postMessage', { status: 503 }, 1_000_000);
    twin.failNext('chat.update', { status: 503 }, 1_000_000);
    const refs = await Promise.all(
      Array.from({ length: MESSAGES }, (_, i) =>
        outbox.messenger.post(CHANNELS[i % CHANNELS.length]!, { text: text('down', i, 0) }),
      ),
    );
    for (let step = 1; step <= 3; step++) {
      await Promise.all(refs.map((ref, i) => outbox.messenger.update(ref, { text: text('down', i, step) })));
    }
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const callsBefore = twin.calls().length;
    twin.clearFaults();
    const recoveredAt = performance.now();
    const deadline = Date.now() + 120_000;
    while ([...Array(MESSAGES).keys()].some((i) => !arrived.has(text('down', i, 3)))) {
      if (Date.now() > deadline)
        throw new Error('the outbox did not deliver every owed message within 2 minutes');
      await new Promise((r) => setTimeout(r, 20));
    }
    const delays = [...Array(MESSAGES).keys()]
      .map((i) => arrived.get(text('down', i, 3))! - recoveredAt)
      .sort((a, b) => a - b);
    const callsAfter = twin.calls().length - callsBefore;
    const ms = (n: number) => `${Math.round(n)} ms`;
    const p99 = percentile(delays, 99);
    const baseP99 = percentile(baseline, 99);
    console.log(`baseline (Slack up) p50 ${ms(percentile(baseline, 50))}, p99 ${ms(baseP99)}`);
    console.log(
      `after recovery p50 ${ms(percentile(delays, 50))}, p99 ${ms(p99)}, max ${ms(delays.at(-1)!)}`,
    );
    return [
      { name: `delivery, Slack up (p99 of ${MESSAGES}, post to arrival)`, value: ms(baseP99) },
      {
        name: `delivery after a ${Math.round(OUTAGE_MS / 1000)} s outage (p99 from recovery)`,
        value: `${ms(p99)} (p50 ${ms(percentile(delays, 50))}, max ${ms(delays.at(-1)!)})`,
        target: '< 5 s probe interval + flush',
      },
      {
        name: 'after recovery / Slack up (p99)',
        value: `${(p99 / baseP99).toFixed(1)}×`,
      },
      {
        name: 'Slack calls per owed message after recovery (4 versions each)',
        value: (callsAfter / MESSAGES).toFixed(2),
        target: '1 (coalesced to the latest)',
      },
    ];
  } finally {
    outbox.stop();
    await outbox.settled();
    await db.close();
    await twin.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
