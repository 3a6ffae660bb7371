/**
 * The only importer of node-cron: runs jobs on their schedules. A job is a function that runs
 * once and takes `now`; scheduling is wiring only. A job never overlaps itself, and one job's
 * failure is logged without touching the others. One schedule per process: the composition root
 * starts it with every job (approval expiry, the drift watch's checks).
 */
import cron from 'node-cron';
import type { ScheduledJob } from '../lib/cron.js';
import type { Logger } from '../lib/logger.js';

export type { ScheduledJob };

export interface Schedule {
  /** Stops every job; resolves when the runs in progress have finished. */
  stop(): Promise<void>;
}

/**
 * @example const schedule = startSchedule([{ name: 'drift', cron: '0 8 * * *', run: (now) => check(now) }], logger);
 */
export function startSchedule(jobs: readonly ScheduledJob[], logger: Logger): Schedule {
  const running = new Set<Promise<void>>();
  const tasks = jobs.map((job) => {
    let busy = false;
    return cron.schedule(
      job.cron,
      async () => {
        // noOverlap skips a fire while the last one runs; this flag also covers a run started by hand.
        if (busy) return;
        busy = true;
        const run = job
          .run(new Date())
          .catch((e: unknown) => logger.error(`job ${job.name} failed:`, e))
          .finally(() => {
            busy = false;
          });
        running.add(run);
        await run;
        running.delete(run);
      },
      { name: job.name, timezone: job.timezone ?? 'UTC', noOverlap: true },
    );
  });
  return {
    async stop() {
      await Promise.all(tasks.map((t) => t.stop()));
      await Promise.all(running);
      await Promise.all(tasks.map((t) => t.destroy()));
    },
  };
}
