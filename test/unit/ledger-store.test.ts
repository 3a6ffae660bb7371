import { beforeEach, expect, it } from 'vitest';
import { createLedgerStore, type LedgerStore } from '../../src/ledger/store.js';
import type { NewLedgerEntry } from '../../src/ledger/types.js';
import { describeEachBackend } from '../support/backends.js';

const KEY = 'alias:acme.mlops.churn_model@production';
const T0 = Date.parse('2026-12-03T10:00:00Z');
const entry = (version: number, over: Partial<NewLedgerEntry> = {}): NewLedgerEntry => ({
  key: KEY,
  target: { kind: 'alias', model: 'acme.mlops.churn_model', alias: 'Production' },
  before: { kind: 'alias', version: version - 1 },
  after: { kind: 'alias', version },
  source: { kind: 'out_of_band', facts: { versionCreatedBy: 'sam@acme.com' } },
  at: T0,
  detectedAt: T0,
  notify: 'C0APPROVALS',
  ...over,
});

let one: LedgerStore;
let two: LedgerStore;

describeEachBackend('the ledger store', (backend) => {
  beforeEach(async () => {
    // Two connections to one store: two processes (replicas on Postgres).
    one = createLedgerStore(await backend.open({ shared: true }));
    two = createLedgerStore(await backend.connect());
  });

  it('records a difference once when two processes saw the same last entry at the same moment', async () => {
    const records = [() => one.record(entry(2), null), () => two.record(entry(2), null)];
    // Postgres: truly at once. SQLite: one after the other (see the approval store's race).
    const raced =
      backend.kind === 'postgres'
        ? await Promise.all(records.map((r) => r()))
        : [await records[0]!(), await records[1]!()];
    expect(raced.filter((e) => e !== undefined)).toHaveLength(1);
    expect(await one.entriesOf(KEY)).toHaveLength(1);
  });

  it('records a difference once when two processes saw the same last entry', async () => {
    const first = await one.record(entry(3), null);
    expect(first?.seq).toBeGreaterThan(0);
    expect(await two.record(entry(3), null)).toBeUndefined();
    expect((await two.record(entry(4), first!.seq))?.after).toEqual({ kind: 'alias', version: 4 });
    expect((await one.entriesOf(KEY)).map((e) => e.after)).toEqual([
      { kind: 'alias', version: 3 },
      { kind: 'alias', version: 4 },
    ]);
    expect((await one.snapshots()).get(KEY)?.after).toEqual({ kind: 'alias', version: 4 });
  });

  it('lets one process at a time post an entry, and offers it again after a failed post', async () => {
    const e = (await one.record(entry(3), null))!;
    expect(await one.claimPost(e.seq, T0, T0 + 60_000)).toBe(true);
    expect(await two.claimPost(e.seq, T0 + 1, T0 + 60_001)).toBe(false);
    await one.markPostFailed(e.seq, 'channel_not_found');
    expect((await two.unposted()).map((u) => [u.seq, u.postError, u.postAttempts])).toEqual([
      [e.seq, 'channel_not_found', 1],
    ]);
    expect(await two.claimPost(e.seq, T0 + 2, T0 + 60_002)).toBe(true);
    await two.markPosted(e.seq, { channel: 'C0APPROVALS', ts: '1.2' }, T0 + 3);
    expect(await one.unposted()).toEqual([]);
    expect(await one.claimPost(e.seq, T0 + 120_000, T0 + 180_000)).toBe(false);
  });

  it('keeps one bot change to one entry', async () => {
    const bot = { kind: 'bot', changeId: 'abc', appliedBy: 'U0REQUEST' } as const;
    const first = (await one.record(entry(3, { source: bot, notify: undefined }), null))!;
    expect(await two.record(entry(4, { source: bot, notify: undefined }), first.seq)).toBeUndefined();
    expect(await one.entriesOf(KEY)).toHaveLength(1);
    expect(await one.claimed(['abc', 'zzz'])).toEqual(new Set(['abc']));
  });
});
