import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLedgerStore, type LedgerStore } from '../../src/ledger/store.js';
import type { NewLedgerEntry } from '../../src/ledger/types.js';
import { openDatabase, type SqliteDatabase } from '../../src/storage/database.js';

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

let dir: string;
let dbs: SqliteDatabase[];
let one: LedgerStore;
let two: LedgerStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-ledger-'));
  // Two connections to one file: two processes.
  dbs = [openDatabase(join(dir, 'm.db')), openDatabase(join(dir, 'm.db'))];
  one = createLedgerStore(dbs[0]!);
  two = createLedgerStore(dbs[1]!);
});
afterEach(() => {
  for (const db of dbs) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the ledger store', () => {
  it('records a difference once when two processes saw the same last entry', () => {
    const first = one.record(entry(3), null);
    expect(first?.seq).toBeGreaterThan(0);
    expect(two.record(entry(3), null)).toBeUndefined();
    expect(two.record(entry(4), first!.seq)?.after).toEqual({ kind: 'alias', version: 4 });
    expect(one.entriesOf(KEY).map((e) => e.after)).toEqual([
      { kind: 'alias', version: 3 },
      { kind: 'alias', version: 4 },
    ]);
    expect(one.snapshots().get(KEY)?.after).toEqual({ kind: 'alias', version: 4 });
  });

  it('lets one process at a time post an entry, and offers it again after a failed post', () => {
    const e = one.record(entry(3), null)!;
    expect(one.claimPost(e.seq, T0, T0 + 60_000)).toBe(true);
    expect(two.claimPost(e.seq, T0 + 1, T0 + 60_001)).toBe(false);
    one.markPostFailed(e.seq, 'channel_not_found');
    expect(two.unposted().map((u) => [u.seq, u.postError, u.postAttempts])).toEqual([
      [e.seq, 'channel_not_found', 1],
    ]);
    expect(two.claimPost(e.seq, T0 + 2, T0 + 60_002)).toBe(true);
    two.markPosted(e.seq, { channel: 'C0APPROVALS', ts: '1.2' }, T0 + 3);
    expect(one.unposted()).toEqual([]);
    expect(one.claimPost(e.seq, T0 + 120_000, T0 + 180_000)).toBe(false);
  });

  it('keeps one bot change to one entry', () => {
    const bot = { kind: 'bot', changeId: 'abc', appliedBy: 'U0REQUEST' } as const;
    const first = one.record(entry(3, { source: bot, notify: undefined }), null)!;
    expect(two.record(entry(4, { source: bot, notify: undefined }), first.seq)).toBeUndefined();
    expect(one.entriesOf(KEY)).toHaveLength(1);
    expect(one.claimed(['abc', 'zzz'])).toEqual(new Set(['abc']));
  });
});
