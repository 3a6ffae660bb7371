/**
 * The only importer of node-cron: runs jobs on their schedules. A job is a function that runs
 * once and takes `now`; scheduling is wiring only. A job never overlaps itself, and one job's
 * failure is logged without touching the others.
 */
import cron from 'node-cron';
import type { Logger } from '../lib/logger.js';

export interface ScheduledJob {
  /** Stable name, for logs. */
  name: string;
  /** Five or six fields (seconds optional), node-cron syntax (not Quartz). */
  cron: string;
  /** IANA time zone the expression is read in; UTC by default. */
  timezone?: string;
  run(now: Date): Promise<void>;
}

export interface Schedule {
  /** Stops every job; resolves when the runs in progress have finished. */
  stop(): Promise<void>;
}

/** Why a schedule is unusable, or undefined when it is fine (for config validation). */
export function scheduleProblem(expression: string, timezone = 'UTC'): string | undefined {
  if (!cron.validate(expression)) return `"${expression}" is not a valid cron expression`;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    return `"${timezone}" is not an IANA time zone (e.g. Europe/Paris, America/New_York, UTC)`;
  }
  return undefined;
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
