/**
 * The scheduler lease, decided without I/O: what a replica should try next given the lease row it
 * read (create it, renew its own, take an expired one, or follow the live holder), and what a
 * round's outcome means for this replica (gained, kept, lost). The store applies each step as one
 * compare-and-set; these functions only choose and interpret.
 */

/** The lease row: who leads, under which term (a fencing token bumped on every take-over), until when. */
export interface Lease {
  name: string;
  holder: string;
  /** Starts at 1; +1 each time another replica takes the lease over. */
  term: number;
  /** Epoch ms, on the store's clock. */
  expiresAt: number;
  /** When the holder last renewed it (store clock). */
  renewedAt: number;
  /** When the holder took it (store clock). */
  since: number;
}

/** What to try next, from the lease as read and the store's now. */
export type LeaseStep =
  | { kind: 'create' }
  | { kind: 'renew'; term: number }
  | { kind: 'take'; from: { holder: string; term: number } }
  | { kind: 'follow'; holder: string; expiresAt: number };

/**
 * @example nextLeaseStep(undefined, 'a', 0) // { kind: 'create' }
 * @example nextLeaseStep({ holder: 'b', term: 2, expiresAt: 10, … }, 'a', 11) // { kind: 'take', from: { holder: 'b', term: 2 } }
 */
export function nextLeaseStep(lease: Lease | undefined, me: string, now: number): LeaseStep {
  if (!lease) return { kind: 'create' };
  // Our own row, even an expired one nobody took: the term is unchanged, so nobody else led meanwhile.
  if (lease.holder === me) return { kind: 'renew', term: lease.term };
  if (lease.expiresAt <= now) return { kind: 'take', from: { holder: lease.holder, term: lease.term } };
  return { kind: 'follow', holder: lease.holder, expiresAt: lease.expiresAt };
}

/** What this replica believes about itself between rounds. */
export type LeaderState =
  | { leading: false }
  | {
      leading: true;
      term: number;
      /**
       * Local monotonic ms until which the lease surely holds: when the winning round STARTED plus
       * the lease. A replica frozen past it stops trusting itself until a renewal succeeds.
       */
      validUntil: number;
    };

/** How a round went: the lease this replica holds after it, or why it holds none. */
export type RoundOutcome =
  | { kind: 'holds'; lease: Lease }
  | { kind: 'held-by-other'; holder: string }
  | { kind: 'failed'; error: string };

export type LeadershipChange =
  | { kind: 'gained'; term: number; from?: string }
  | { kind: 'lost'; reason: 'taken'; holder: string }
  | { kind: 'lost'; reason: 'unreachable'; error: string };

/**
 * The state after a round that started at local monotonic time `startedAt`, and the change to log
 * (once per transition). A failed round keeps leadership only while the lease surely holds.
 *
 * @example settleRound({ leading: false }, { kind: 'holds', lease }, 0, 15_000, 1_000).change // { kind: 'gained', term: 1 }
 */
export function settleRound(
  prev: LeaderState,
  outcome: RoundOutcome,
  startedAt: number,
  leaseMs: number,
  localNow: number,
  took?: string,
): { next: LeaderState; change?: LeadershipChange } {
  if (outcome.kind === 'holds') {
    const next: LeaderState = { leading: true, term: outcome.lease.term, validUntil: startedAt + leaseMs };
    if (prev.leading && prev.term === outcome.lease.term) return { next };
    return { next, change: { kind: 'gained', term: outcome.lease.term, ...(took ? { from: took } : {}) } };
  }
  if (outcome.kind === 'held-by-other') {
    return {
      next: { leading: false },
      ...(prev.leading ? { change: { kind: 'lost', reason: 'taken', holder: outcome.holder } } : {}),
    };
  }
  if (prev.leading && localNow < prev.validUntil) return { next: prev };
  return {
    next: { leading: false },
    ...(prev.leading ? { change: { kind: 'lost', reason: 'unreachable', error: outcome.error } } : {}),
  };
}

/**
 * Whether this replica may start leader-only work now: it led after its last round, and that
 * round's lease has not run out on the local monotonic clock (a frozen replica has not).
 *
 * @example mayLead({ leading: true, term: 1, validUntil: 100 }, 99) // true
 */
export function mayLead(state: LeaderState, localNow: number): boolean {
  return state.leading && localNow < state.validUntil;
}
