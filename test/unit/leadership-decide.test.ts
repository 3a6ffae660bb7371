import { describe, expect, it } from 'vitest';
import {
  type LeaderState,
  type Lease,
  mayLead,
  nextLeaseStep,
  type RoundOutcome,
  settleRound,
} from '../../src/leadership/decide.js';

const LEASE = 15_000;
const lease = (over: Partial<Lease> = {}): Lease => ({
  name: 'scheduler',
  holder: 'A',
  term: 3,
  expiresAt: 10_000,
  renewedAt: -5_000,
  since: -60_000,
  ...over,
});

describe('nextLeaseStep', () => {
  const cases: Array<{ name: string; lease: Lease | undefined; me: string; now: number; want: unknown }> = [
    { name: 'no lease yet: create it', lease: undefined, me: 'A', now: 0, want: { kind: 'create' } },
    {
      name: 'our own live lease: renew it',
      lease: lease(),
      me: 'A',
      now: 0,
      want: { kind: 'renew', term: 3 },
    },
    {
      name: 'our own expired lease nobody took: renew it under the same term',
      lease: lease(),
      me: 'A',
      now: 20_000,
      want: { kind: 'renew', term: 3 },
    },
    {
      name: "another's live lease: follow",
      lease: lease(),
      me: 'B',
      now: 9_999,
      want: { kind: 'follow', holder: 'A', expiresAt: 10_000 },
    },
    {
      name: "another's lease at its expiry: take it from that holder and term",
      lease: lease(),
      me: 'B',
      now: 10_000,
      want: { kind: 'take', from: { holder: 'A', term: 3 } },
    },
  ];
  it.each(cases)('$name', ({ lease, me, now, want }) => {
    expect(nextLeaseStep(lease, me, now)).toEqual(want);
  });
});

describe('settleRound', () => {
  const leading = (term: number, validUntil: number): LeaderState => ({ leading: true, term, validUntil });
  const holds = (term: number): RoundOutcome => ({ kind: 'holds', lease: lease({ term }) });
  const cases: Array<{
    name: string;
    prev: LeaderState;
    outcome: RoundOutcome;
    startedAt: number;
    localNow: number;
    took?: string;
    want: ReturnType<typeof settleRound>;
  }> = [
    {
      name: 'a follower that created the lease gains it',
      prev: { leading: false },
      outcome: holds(1),
      startedAt: 100,
      localNow: 120,
      want: { next: leading(1, 100 + LEASE), change: { kind: 'gained', term: 1 } },
    },
    {
      name: 'a follower that took an expired lease gains it and says from whom',
      prev: { leading: false },
      outcome: holds(4),
      startedAt: 100,
      localNow: 120,
      took: 'A',
      want: { next: leading(4, 100 + LEASE), change: { kind: 'gained', term: 4, from: 'A' } },
    },
    {
      name: 'a renewal keeps leadership silently, trusted from when the round started',
      prev: leading(3, 5_000),
      outcome: holds(3),
      startedAt: 4_000,
      localNow: 4_010,
      want: { next: leading(3, 4_000 + LEASE) },
    },
    {
      name: 'a leader that finds another holder has lost it',
      prev: leading(3, 5_000),
      outcome: { kind: 'held-by-other', holder: 'B' },
      startedAt: 4_000,
      localNow: 4_010,
      want: { next: { leading: false }, change: { kind: 'lost', reason: 'taken', holder: 'B' } },
    },
    {
      name: 'a follower that still finds another holder says nothing',
      prev: { leading: false },
      outcome: { kind: 'held-by-other', holder: 'B' },
      startedAt: 0,
      localNow: 1,
      want: { next: { leading: false } },
    },
    {
      name: 'a failed round keeps leadership while the last lease surely holds',
      prev: leading(3, 5_000),
      outcome: { kind: 'failed', error: 'database is locked' },
      startedAt: 4_000,
      localNow: 4_999,
      want: { next: leading(3, 5_000) },
    },
    {
      name: 'a failed round after the lease ran out loses leadership, saying why',
      prev: leading(3, 5_000),
      outcome: { kind: 'failed', error: 'database is locked' },
      startedAt: 4_000,
      localNow: 5_000,
      want: {
        next: { leading: false },
        change: { kind: 'lost', reason: 'unreachable', error: 'database is locked' },
      },
    },
    {
      name: 'a follower whose round failed stays a follower, silently',
      prev: { leading: false },
      outcome: { kind: 'failed', error: 'x' },
      startedAt: 0,
      localNow: 1,
      want: { next: { leading: false } },
    },
  ];
  it.each(cases)('$name', ({ prev, outcome, startedAt, localNow, took, want }) => {
    expect(settleRound(prev, outcome, startedAt, LEASE, localNow, took)).toEqual(want);
  });
});

describe('mayLead', () => {
  it('trusts a won round only until its lease runs out on the local clock (a frozen leader does not)', () => {
    expect(mayLead({ leading: true, term: 1, validUntil: 100 }, 99)).toBe(true);
    expect(mayLead({ leading: true, term: 1, validUntil: 100 }, 100)).toBe(false);
    expect(mayLead({ leading: false }, 0)).toBe(false);
  });
});
