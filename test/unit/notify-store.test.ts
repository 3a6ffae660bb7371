import { beforeEach, expect, it } from 'vitest';
import { createNotifyStore, type NotifyStore } from '../../src/approvals/notify-store.js';
import { describeEachBackend } from '../support/backends.js';

const T0 = Date.parse('2026-12-03T10:00:00Z');

/** Postgres: truly at once, over two replicas' pools. SQLite: one after the other. */
const race = <T>(kind: string, calls: Array<() => Promise<T>>): Promise<T[]> =>
  kind === 'postgres'
    ? Promise.all(calls.map((c) => c()))
    : calls.reduce(async (acc, c) => [...(await acc), await c()], Promise.resolve([] as T[]));

describeEachBackend('the notify store', (backend) => {
  let one: NotifyStore;
  let two: NotifyStore;

  beforeEach(async () => {
    // Two connections to one store: two processes (replicas on Postgres).
    one = createNotifyStore(await backend.open({ shared: true }));
    two = createNotifyStore(await backend.connect());
  });

  it('lets one of two replicas claim a requester notice, and settles it once', async () => {
    const claims = await race(backend.kind, [
      () => one.claimNotice('apr-1', 'approved', 'U1', T0),
      () => two.claimNotice('apr-1', 'approved', 'U1', T0 + 1),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await two.notices('apr-1')).toEqual(new Map([['approved', undefined]]));
    await one.settleNotice('apr-1', 'approved', 'dm');
    await two.settleNotice('apr-1', 'approved', 'thread');
    expect(await two.notices('apr-1')).toEqual(new Map([['approved', 'dm']]));
    // Another event of the same request is its own notice.
    expect(await two.claimNotice('apr-1', 'executed', 'U1', T0 + 2)).toBe(true);
  });

  it('lets one of two replicas claim an approver DM, and keeps the first outcome', async () => {
    const claims = await race(backend.kind, [
      () => one.claimApproverDm('apr-1', 'U2', T0),
      () => two.claimApproverDm('apr-1', 'U2', T0),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await one.claimApproverDm('apr-1', 'U3', T0 + 5)).toBe(true);
    await one.setApproverDm('apr-1', 'U2', { channel: 'D2', ts: '1.1' });
    await two.failApproverDm('apr-1', 'U2', 'too late');
    await two.failApproverDm('apr-1', 'U3', 'cannot_dm_bot');
    await one.setApproverDm('apr-1', 'U3', { channel: 'D3', ts: '1.2' });
    expect(await two.approverDms('apr-1')).toEqual([
      { requestId: 'apr-1', userId: 'U2', ref: { channel: 'D2', ts: '1.1' } },
      { requestId: 'apr-1', userId: 'U3', ref: { channel: 'D3', ts: '1.2' }, error: 'cannot_dm_bot' },
    ]);
  });

  it('remembers the first DM channel opened for a person', async () => {
    expect(await one.dmChannel('U1')).toBeUndefined();
    await race(backend.kind, [
      () => one.rememberDmChannel('U1', 'D1', T0),
      () => two.rememberDmChannel('U1', 'D9', T0),
    ]);
    const channel = await two.dmChannel('U1');
    expect(['D1', 'D9']).toContain(channel);
    await one.rememberDmChannel('U1', 'D5', T0 + 1);
    expect(await one.dmChannel('U1')).toBe(channel);
  });
});
