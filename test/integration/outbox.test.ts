/**
 * The outbox on its own, over the real Web API client against the Slack twin: what is owed is
 * stored first, delivered until Slack takes it, coalesced to the latest, and a refused message
 * reaches its requester another way, with an audit row.
 */
import { webApi } from '@slack/bolt';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type ChangeStore, createChangeStore } from '../../src/changes/store.js';
import { outboxCheck } from '../../src/doctor/checks/outbox.js';
import { systemClock } from '../../src/lib/clock.js';
import type { Logger } from '../../src/lib/logger.js';
import { createOutbox, type Outbox } from '../../src/outbox/outbox.js';
import { createOutboxStore } from '../../src/outbox/store.js';
import { type SlackTwin, startSlackTwin } from '../../src/sandbox/slack/index.js';
import { MLOPS_CHANNEL_ID, REQUESTER_USER_ID } from '../../src/sandbox/slack/seed.js';
import { buildUndeliveredNotice } from '../../src/slack/blocks/undelivered.js';
import { createSlackDelivery, createSlackFallback } from '../../src/slack/messenger.js';
import type { StoreDatabase } from '../../src/storage/database.js';
import { type Backend, describeEachBackend } from '../support/backends.js';

interface Harness {
  twin: SlackTwin;
  outbox: Outbox;
  changes: ChangeStore;
  db: StoreDatabase;
  warnings: string[];
  /** A new outbox over the same store, as a restarted process would build it. */
  reopen(): Promise<Outbox>;
}

/** The backend of the suite running now (describeEachBackend sets it). */
let backend: Backend;
const cleanups: Array<() => Promise<void> | void> = [];

async function start(
  options: {
    stuckAfterMs?: number;
    minIntervalMs?: number;
    clock?: typeof systemClock;
    backoff?: { initialDelayMs: number; maxDelayMs: number };
  } = {},
): Promise<Harness> {
  const twin = await startSlackTwin();
  const warnings: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (...m) => warnings.push(m.map(String).join(' ')),
    error: (...m) => warnings.push(m.map(String).join(' ')),
  };
  const client = new webApi.WebClient(twin.botToken, {
    slackApiUrl: twin.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
  const clock = options.clock ?? systemClock;
  const h = { twin, warnings } as Harness;
  const outboxes: Outbox[] = [];
  let opened = false;
  h.reopen = async () => {
    h.db = opened ? await backend.connect() : await backend.open({ shared: true });
    opened = true;
    h.changes = createChangeStore(h.db, clock);
    const outbox = createOutbox({
      store: createOutboxStore(h.db, clock),
      slack: createSlackDelivery(client),
      fallback: createSlackFallback(client),
      views: { undelivered: buildUndeliveredNotice },
      audit: (e) => h.changes.audit(e),
      clock,
      logger,
      backoff: options.backoff ?? { initialDelayMs: 10, maxDelayMs: 40 },
      // Each update is sent as it is written here; pacing has its own test.
      minIntervalMs: options.minIntervalMs ?? 0,
      ...(options.stuckAfterMs !== undefined ? { stuckAfterMs: options.stuckAfterMs } : {}),
    });
    outboxes.push(outbox);
    h.outbox = outbox;
    return outbox;
  };
  await h.reopen();
  cleanups.push(async () => {
    for (const o of outboxes) {
      o.stop();
      await o.settled();
    }
    await h.db.close();
    await twin.stop();
  });
  return h;
}

const topLevel = (h: Harness, channel = MLOPS_CHANNEL_ID) =>
  h.twin.messages(channel).filter((m) => !m.thread_ts || m.thread_ts === m.ts);

describeEachBackend('the outbox', (b) => {
  beforeEach(() => {
    backend = b;
  });
  // Registered after the backend's own afterEach, so it runs first: outboxes stop before the store closes.
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });

  it('posts a message Slack refused with 5xx once Slack recovers, exactly once', async () => {
    const h = await start();
    await h.outbox.start();
    h.twin.failNext('chat.postMessage', { status: 500 }, 3);
    const ref = await h.outbox.messenger.post(MLOPS_CHANNEL_ID, { text: 'Deploying v3…' });
    // Not in Slack yet: the caller holds a ref the outbox resolves later.
    expect(ref.ts).toMatch(/^outbox:/);
    await h.outbox.messenger.update(ref, { text: 'Deploy v3: done' });
    await h.twin.waitFor(async () => topLevel(h).find((m) => m.text === 'Deploy v3: done'));
    expect(topLevel(h)).toHaveLength(1);
    expect(h.twin.calls('chat.postMessage').filter((c) => c.status === 200)).toHaveLength(1);
  });

  it('releases every message backing off as soon as Slack takes one again', async () => {
    // A minute of backoff: only the release can deliver these within the test.
    const h = await start({ backoff: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    await h.outbox.start();
    h.twin.failNext('chat.postMessage', { status: 500 }, 3);
    for (const n of [1, 2, 3]) await h.outbox.messenger.post(MLOPS_CHANNEL_ID, { text: `owed ${n}` });
    expect(topLevel(h)).toHaveLength(0);
    await h.outbox.messenger.post(MLOPS_CHANNEL_ID, { text: 'Slack is back' });
    await h.twin.waitFor(async () => topLevel(h).length === 4, 2_000);
    expect(topLevel(h).map((m) => m.text)).toEqual(['Slack is back', 'owed 1', 'owed 2', 'owed 3']);
  });

  it('coalesces a burst of updates to the latest, one send in flight at a time', async () => {
    const h = await start();
    await h.outbox.start();
    const ref = await h.outbox.messenger.post(MLOPS_CHANNEL_ID, { text: 'step 0' });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => h.outbox.messenger.update(ref, { text: `step ${i + 1}` })),
    );
    await h.outbox.settled();
    expect(h.twin.state.findMessage(ref.channel, ref.ts)?.text).toBe('step 20');
    // SQLite: the first update goes out at once; the other 19 collapse into the one after it. On a
    // Postgres pool the 20 writes are stored one after the other, in the order asked (each a round
    // trip), so more sends start while they arrive: still fewer than the updates, the latest last.
    if (b.kind === 'sqlite') expect(h.twin.calls('chat.update').length).toBeLessThanOrEqual(2);
    else expect(h.twin.calls('chat.update').length).toBeLessThan(20);
  });

  it('paces one message: updates within the interval go out once, after it, as the latest, without holding the caller', async () => {
    const h = await start({ minIntervalMs: 400 });
    await h.outbox.start();
    const ref = await h.outbox.messenger.post(MLOPS_CHANNEL_ID, { text: 'Deploy v3: plan' });
    const postedAt = h.twin.lastCall('chat.postMessage')!.at;
    const started = Date.now();
    for (const step of ['applying', 'rolling out', '1 of 2 ready', '2 of 2 ready']) {
      await h.outbox.messenger.update(ref, { text: `Deploy v3: ${step}` });
    }
    expect(Date.now() - started).toBeLessThan(300);
    await h.twin.waitFor(() => topLevel(h).find((m) => m.text === 'Deploy v3: 2 of 2 ready'), 3_000);
    const updates = h.twin.calls('chat.update');
    expect(updates.map((c) => c.args.text)).toEqual(['Deploy v3: 2 of 2 ready']);
    expect(updates[0]!.at - postedAt).toBeGreaterThanOrEqual(390);
    // Another message is not held back by this one's pause.
    await h.outbox.messenger.post(MLOPS_CHANNEL_ID, { text: 'another change' });
    expect(topLevel(h).map((m) => m.text)).toContain('another change');
  });

  it('waits out a 429 for as long as Slack says, then delivers', async () => {
    const h = await start();
    await h.outbox.start();
    h.twin.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const started = Date.now();
    await h.outbox.messenger.post(MLOPS_CHANNEL_ID, { text: 'after the rate limit' });
    await h.twin.waitFor(async () => topLevel(h).find((m) => m.text === 'after the rate limit'), 5_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('puts a thread line under its parent once the parent is posted', async () => {
    const h = await start();
    await h.outbox.start();
    h.twin.failNext('chat.postMessage', { status: 503 }, 2);
    const parent = await h.outbox.messenger.post(MLOPS_CHANNEL_ID, { text: 'Approval needed' });
    await h.outbox.messenger.post(MLOPS_CHANNEL_ID, { text: 'Approved by avery' }, parent.ts);
    const line = await h.twin.waitFor(async () =>
      h.twin.messages(MLOPS_CHANNEL_ID).find((m) => m.text === 'Approved by avery'),
    );
    const root = h.twin.messages(MLOPS_CHANNEL_ID).find((m) => m.text === 'Approval needed');
    expect(line.thread_ts).toBe(root?.ts);
  });

  it.each(['channel_not_found', 'invalid_auth'])(
    'tells the requester through their response_url when Slack answers %s, and audits it',
    async (error) => {
      const h = await start();
      await h.outbox.start();
      h.outbox.rememberReplyUrl(
        REQUESTER_USER_ID,
        h.twin.createResponseUrl({ channel: MLOPS_CHANNEL_ID, user: REQUESTER_USER_ID }),
      );
      const about = { requester: REQUESTER_USER_ID, about: { target: 'endpoint:churn', changeId: 'c1' } };
      const ref = await h.outbox.messenger.post(
        MLOPS_CHANNEL_ID,
        { text: 'Deploy v3: starting' },
        undefined,
        about,
      );
      h.twin.failNext('chat.update', { error });
      await h.outbox.messenger.update(ref, { text: 'Deploy v3: rolling out' }, about);
      // Refused for good: later versions stay out of the channel; the final one reaches the requester.
      await h.outbox.messenger.update(ref, { text: 'Deploy v3: halfway' }, about);
      await h.outbox.messenger.update(ref, { text: 'Deploy v3: done' }, { ...about, final: true });
      const told = h.twin.calls('response_url').map((c) => String(c.args.text));
      expect(told).toHaveLength(2);
      expect(told[0]).toContain(error);
      expect(told[0]).toContain('Deploy v3: rolling out');
      expect(told[1]).toContain('Deploy v3: done');
      expect(h.twin.calls('response_url').every((c) => c.args.response_type === 'ephemeral')).toBe(true);
      // Nothing more is tried in the channel once Slack refused it for good.
      expect(h.twin.calls('chat.update')).toHaveLength(1);
      const audit = await h.changes.recentAudit({ action: 'message_undeliverable' });
      expect(audit[0]).toMatchObject({
        target: 'endpoint:churn',
        changeId: 'c1',
        outcome: expect.stringContaining('response_url'),
      });
    },
  );

  it('sends a direct message when the response_url is used up', async () => {
    const h = await start();
    await h.outbox.start();
    const url = h.twin.createResponseUrl({ channel: MLOPS_CHANNEL_ID, user: REQUESTER_USER_ID });
    h.outbox.rememberReplyUrl(REQUESTER_USER_ID, url);
    h.twin.failNext('response_url', { status: 404 });
    h.twin.failNext('chat.postMessage', { error: 'is_archived' });
    await expect(
      h.outbox.messenger.post(MLOPS_CHANNEL_ID, { text: 'Deploy v3: done' }, undefined, {
        requester: REQUESTER_USER_ID,
        final: true,
      }),
    ).rejects.toMatchObject({ name: 'UndeliverableError', code: 'is_archived' });
    const dm = h.twin.messages(`D${REQUESTER_USER_ID}`);
    expect(dm.map((m) => m.text).join('\n')).toContain('Deploy v3: done');
    expect((await h.changes.recentAudit({ action: 'message_undeliverable' }))[0]?.outcome).toContain('dm');
  });

  it('delivers at start-up what a previous process still owed', async () => {
    const h = await start();
    h.twin.failNext('chat.postMessage', { status: 500 });
    // The first process never started its worker: the message stays owed in the file.
    await h.outbox.messenger.post(MLOPS_CHANNEL_ID, { text: 'owed across a restart' });
    expect(topLevel(h)).toHaveLength(0);
    await h.db.close();
    await (await h.reopen()).start();
    expect(topLevel(h).map((m) => m.text)).toEqual(['owed across a restart']);
  });

  it('logs a message still owed after the stuck threshold, and lists it', async () => {
    const h = await start({ stuckAfterMs: 0 });
    h.twin.failNext('chat.postMessage', { status: 500 }, 1000);
    await h.outbox.messenger.post(MLOPS_CHANNEL_ID, { text: 'never delivered' });
    await h.outbox.drain();
    expect(await h.outbox.stuck()).toHaveLength(1);
    expect(h.warnings.join('\n')).toMatch(/still not delivered after \d+ s .*statusCode = 500/);
    // `npm run doctor` reads the same store (read-only, while the bot has it open).
    const doctor = () =>
      outboxCheck(
        b.kind === 'sqlite'
          ? { kind: 'sqlite', path: backend.location() }
          : { kind: 'postgres', postgres: { connectionString: backend.location() } },
        Date.now() + 10 * 60_000,
      );
    const check = await doctor();
    expect(check).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('1 message still owed to Slack'),
    });
    expect(check?.fix).toContain('SLACK_BOT_TOKEN');
    h.twin.clearFaults();
    await h.outbox.start();
    await h.twin.waitFor(async () => topLevel(h).find((m) => m.text === 'never delivered'));
    await h.outbox.settled();
    expect(await h.outbox.stuck()).toEqual([]);
    expect((await doctor())?.status).toBe('ok');
  });
});
