/**
 * Several replicas drain one outbox (issue #13): each message is sent only by the replica holding
 * its send lease, so two replicas draining at once post it once; a dead holder's message is sent
 * by another replica once the lease ran out (on Postgres by the database's clock).
 */
import { expect, it } from 'vitest';
import type { Messenger } from '../../src/domain/ports/messenger.js';
import { systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createOutbox } from '../../src/outbox/outbox.js';
import { createOutboxStore } from '../../src/outbox/store.js';
import type { StoreDatabase } from '../../src/storage/database.js';
import { describeEachBackend } from '../support/backends.js';

/** A Slack that takes 50 ms per post and counts them. */
function slowSlack(): Messenger & { posts: string[] } {
  const posts: string[] = [];
  return {
    posts,
    async post(channel, message) {
      const n = posts.push(message.text ?? '');
      await new Promise((r) => setTimeout(r, 50));
      return { channel, ts: `1700000000.${String(n).padStart(6, '0')}` };
    },
    async update() {},
    async ephemeral() {},
  };
}

function replica(db: StoreDatabase, slack: Messenger, owner: string, leaseMs = 30_000) {
  const store = createOutboxStore(db, systemClock, { owner, leaseMs });
  const outbox = createOutbox({
    store,
    slack,
    fallback: { respond: async () => {}, dm: async () => {} },
    views: { undelivered: (n) => n.message },
    audit: async () => {},
    clock: systemClock,
    logger: silentLogger,
    minIntervalMs: 0,
  });
  return { store, outbox };
}

describeEachBackend('the outbox across replicas', (backend) => {
  it('posts a message two replicas drain at once exactly once', async () => {
    const slack = slowSlack();
    const a = replica(await backend.open({ shared: true }), slack, 'replica-a');
    const b = replica(await backend.connect(), slack, 'replica-b');
    for (let i = 0; i < 5; i++) await a.store.create('C1', { text: `m${i}` }, undefined, {});
    await Promise.all([a.outbox.drain(), b.outbox.drain()]);
    expect(slack.posts.sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    for (const row of await a.store.due(Date.now() + 1_000)) expect(row.status).not.toBe('owed');
  });

  it('sends a dead holder’s message once its lease ran out, not before', async () => {
    const slack = slowSlack();
    const dead = replica(await backend.open({ shared: true }), slack, 'replica-dead', 300);
    const live = replica(await backend.connect(), slack, 'replica-live', 300);
    const row = await dead.store.create('C1', { text: 'owed' }, undefined, {});
    // The holder claims it and dies before sending.
    expect(await dead.store.claim(row.id)).toBe(true);
    await live.outbox.drain();
    expect(slack.posts).toEqual([]);
    expect(await live.store.claim(row.id)).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    await live.outbox.drain();
    expect(slack.posts).toEqual(['owed']);
    expect((await live.store.get(row.id))?.status).toBe('delivered');
  });
});
