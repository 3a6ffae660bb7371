import { afterEach, describe, expect, it } from 'vitest';
import { type Schedule, startSchedule } from '../../src/jobs/schedule.js';
import type { MissedRuns } from '../../src/lib/cron.js';
import { createLogger } from '../../src/lib/logger.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Holds the event loop, as a CPU-bound request or a stop-the-world pause on a loaded host does. */
function blockUntil(at: number): void {
  while (Date.now() < at) {
    // busy: no timer can fire meanwhile
  }
}

async function waitFor(done: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done() && Date.now() < until) await sleep(20);
}

let schedules: Schedule[] = [];
afterEach(async () => {
  await Promise.all(schedules.map((s) => s.stop()));
  schedules = [];
});

describe('the schedule (real node-cron, real timers)', () => {
  it('still runs a tick that fires seconds late, and reports a tick later than its tolerance as missed, through the logger', async () => {
    // The next whole second at least 1.5 s away: both jobs are due then, once a minute.
    const fireAt = Math.ceil((Date.now() + 1_500) / 1_000) * 1_000;
    const cron = `${new Date(fireAt).getUTCSeconds()} * * * * *`;
    const lines: string[] = [];
    const logger = createLogger('debug', (l) => lines.push(l));
    const ran: string[] = [];
    const missed: MissedRuns[] = [];

    schedules.push(
      startSchedule([{ name: 'daily-check', cron, run: async () => void ran.push('daily-check') }], logger),
      // node-cron's own tolerance (1 s): the tick below is dropped, and the job is told.
      startSchedule(
        [
          {
            name: 'strict',
            cron,
            run: async () => void ran.push('strict'),
            missed: async (m) => void missed.push(m),
          },
        ],
        logger,
        { toleranceMs: 1_000 },
      ),
    );

    // The event loop is blocked from just before the tick until 2.3 s after it.
    await sleep(fireAt - Date.now() - 400);
    blockUntil(fireAt + 2_300);
    await waitFor(() => ran.length > 0 && missed.length > 0, 3_000);

    expect(ran).toEqual(['daily-check']);
    expect(missed).toEqual([{ first: new Date(fireAt), last: new Date(fireAt), count: 1 }]);
    const log = lines.join('');
    expect(log).toMatch(/WARN {2}job daily-check runs 2 s late \(scheduled /);
    expect(log).toMatch(
      new RegExp(
        `WARN {2}job strict missed its run scheduled ${new Date(fireAt).toISOString()}: the process was blocked`,
      ),
    );
  }, 15_000);
});
