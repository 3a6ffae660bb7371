/**
 * One replica at a time leads the scheduled jobs. Each replica runs rounds every `renewMs`: read
 * the lease, choose a step (decide.ts), apply it as one compare-and-set (store.ts), settle what it
 * means. The leader renews; a follower takes the lease once it has expired on the store's clock,
 * so a killed leader is replaced within lease + round. A frozen leader cannot renew, loses the
 * lease when it runs out, and on waking finds it gone: every job is guarded by `confirm()`, which
 * renews under this replica's term before the job runs, and refuses once another replica took over.
 */
import type { ScheduledJob } from '../lib/cron.js';
import type { Logger } from '../lib/logger.js';
import {
  type LeaderState,
  type LeadershipChange,
  type Lease,
  mayLead,
  nextLeaseStep,
  type RoundOutcome,
  settleRound,
} from './decide.js';
import type { LeadershipStore } from './store.js';

/** Default lease: a dead leader is replaced within about 20 s (lease + one round), under the 30 s promised. */
export const DEFAULT_LEASE_MS = 15_000;
export const DEFAULT_RENEW_MS = 5_000;

/** What /healthz and the doctor say about leadership. */
export interface LeadershipStatus {
  /** Whether this replica leads the scheduled jobs now. */
  leader: boolean;
  /** Who held the lease at the last round (this replica or another), if anyone. */
  holder?: string;
  /** Since when that holder has led (epoch ms, store clock). */
  since?: number;
  term?: number;
}

export interface Leadership {
  /** Runs the first round, then one every `renewMs`. */
  start(): Promise<void>;
  /** One round now (tests drive rounds by hand). */
  round(): Promise<void>;
  /** Whether leader-only work may start now, without asking the store. */
  isLeading(): boolean;
  /** Renews the lease under this replica's term: true only if it still leads (one statement). */
  confirm(): Promise<boolean>;
  status(): LeadershipStatus;
  /** The job, run only while this replica leads (confirmed before each run). */
  guard(job: ScheduledJob): ScheduledJob;
  /**
   * Ends the lease of a replica known to be dead (its process lock was taken over), so the next
   * round need not wait it out. Does nothing if another replica holds the lease meanwhile.
   */
  forget(holder: string): Promise<void>;
  /** Stops the rounds and, when leading, ends the lease so another replica takes over at once. */
  stop(): Promise<void>;
}

export interface LeadershipOptions {
  store: LeadershipStore;
  /** The role; one lease per name. */
  name?: string;
  /** This replica, unique per process start. */
  me: string;
  leaseMs?: number;
  renewMs?: number;
  logger: Logger;
  /** Local monotonic ms (performance.now by default): how long this replica trusts a won round. */
  localNow?: () => number;
}

/** @example const leader = createLeadership({ store, me: identity.instance, logger }); await leader.start(); */
export function createLeadership(o: LeadershipOptions): Leadership {
  const { store, me, logger } = o;
  const name = o.name ?? 'scheduler';
  const leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
  const renewMs = o.renewMs ?? DEFAULT_RENEW_MS;
  const localNow = o.localNow ?? (() => performance.now());
  let state: LeaderState = { leading: false };
  let seen: Lease | undefined;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let stopped = false;

  function tell(change: LeadershipChange | undefined): void {
    if (!change) return;
    if (change.kind === 'gained') {
      logger.info(
        `leading the scheduled jobs (term ${change.term}${change.from ? `, took over from ${change.from}, whose lease ran out` : ''})`,
      );
    } else if (change.reason === 'taken') {
      logger.warn(`no longer leading the scheduled jobs: ${change.holder} leads them now`);
    } else {
      logger.warn(`no longer leading the scheduled jobs: the store did not answer (${change.error})`);
    }
  }

  /** Reads, decides, applies one step; the outcome as decide.ts sees it. */
  async function attempt(): Promise<{ outcome: RoundOutcome; took?: string }> {
    try {
      const { lease, now } = await store.read(name);
      seen = lease;
      const step = nextLeaseStep(lease, me, now);
      let got: Lease | undefined;
      if (step.kind === 'follow') return { outcome: { kind: 'held-by-other', holder: step.holder } };
      if (step.kind === 'create') got = await store.create(name, me, leaseMs);
      else if (step.kind === 'renew') got = await store.renew(name, me, step.term, leaseMs);
      else got = await store.take(name, step.from, me, leaseMs);
      if (got) {
        seen = got;
        return {
          outcome: { kind: 'holds', lease: got },
          ...(step.kind === 'take' ? { took: step.from.holder } : {}),
        };
      }
      // Another replica won the same race: read who, next round.
      const after = await store.read(name);
      seen = after.lease;
      return { outcome: { kind: 'held-by-other', holder: after.lease?.holder ?? 'another replica' } };
    } catch (e) {
      return { outcome: { kind: 'failed', error: (e as Error).message } };
    }
  }

  async function runRound(): Promise<void> {
    if (stopped) return;
    const startedAt = localNow();
    const { outcome, took } = await attempt();
    if (stopped) return;
    const { next, change } = settleRound(state, outcome, startedAt, leaseMs, localNow(), took);
    state = next;
    tell(change);
  }

  /** Rounds never overlap: a caller during one waits for it. */
  function round(): Promise<void> {
    inFlight ??= runRound().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  async function confirm(): Promise<boolean> {
    if (stopped) return false;
    // A follower stays one: only the rounds take leases.
    if (!state.leading) return false;
    await round();
    return mayLead(state, localNow());
  }

  return {
    async start() {
      await round();
      timer = setInterval(() => void round(), renewMs);
      timer.unref();
    },
    round,
    isLeading: () => !stopped && mayLead(state, localNow()),
    confirm,
    status() {
      const leader = !stopped && mayLead(state, localNow());
      return {
        leader,
        ...(seen ? { holder: seen.holder, since: seen.since, term: seen.term } : {}),
      };
    },
    guard(job) {
      const guarded: ScheduledJob = {
        ...job,
        async run(now) {
          if (await confirm()) await job.run(now);
        },
      };
      const missed = job.missed;
      if (missed) {
        guarded.missed = async (runs, now) => {
          if (await confirm()) await missed(runs, now);
        };
      }
      return guarded;
    },
    async forget(holder) {
      const { lease } = await store.read(name);
      if (lease?.holder === holder) await store.release(name, holder, lease.term);
    },
    async stop() {
      if (timer) clearInterval(timer);
      await inFlight;
      stopped = true;
      if (state.leading) {
        const term = state.term;
        state = { leading: false };
        try {
          if (await store.release(name, me, term))
            logger.info('no longer leading the scheduled jobs: stopping');
        } catch (e) {
          logger.warn(
            `could not hand the scheduled jobs over at stop (another replica takes them when the lease runs out): ${(e as Error).message}`,
          );
        }
      }
    },
  };
}
