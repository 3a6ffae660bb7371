/**
 * The only importer of node-cron: runs jobs on their schedules. A job is a function that runs
 * once and takes `now`; scheduling is wiring only. A job never overlaps itself, and one job's
 * failure is logged without touching the others. One schedule per process: the composition root
 * starts it with every job (approval expiry, the drift watch's checks).
 *
 * Late ticks: node-cron drops a run that fires more than `missedExecutionTolerance` late (1 s by
 * default), which a loaded host reaches easily, and a daily check is then lost for a day. Here a
 * tick up to `toleranceMs` late (10 min by default, never past the next run) still runs; one later
 * than that is logged through our logger (node-cron's own console warning is silenced) and handed
 * to the job's `missed` hook, once per streak.
 */
import cron, { type Logger as CronLogger, type ScheduledTask } from 'node-cron';
import type { MissedRuns, ScheduledJob } from '../lib/cron.js';
import type { Logger } from '../lib/logger.js';

export type { MissedRuns, ScheduledJob };

/** How late a tick may fire and still run. */
export const DEFAULT_TICK_TOLERANCE_MS = 10 * 60_000;
/** Later than this, a tick that ran is logged as late. */
const LATE_NOTICE_MS = 1_000;

export interface Schedule {
  /** Stops every job; resolves when the runs in progress have finished. */
  stop(): Promise<void>;
}

export interface ScheduleOptions {
  /** How late a tick may fire and still run (default 10 min; node-cron's own default is 1 s). */
  toleranceMs?: number;
}

/** node-cron's logger interface over ours, so its warnings and errors reach the bot's log. */
function cronLoggerOf(logger: Logger): CronLogger {
  const tagged = (write: (...m: unknown[]) => void) => (message: string | Error, err?: Error) =>
    err === undefined ? write('node-cron:', message) : write('node-cron:', message, err);
  return {
    info: (m) => logger.info('node-cron:', m),
    warn: (m) => logger.warn('node-cron:', m),
    error: tagged(logger.error),
    debug: tagged(logger.debug),
  };
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/**
 * @example const schedule = startSchedule([{ name: 'drift', cron: '0 8 * * *', run: (now) => check(now) }], logger);
 */
export function startSchedule(
  jobs: readonly ScheduledJob[],
  logger: Logger,
  options: ScheduleOptions = {},
): Schedule {
  const tolerance = options.toleranceMs ?? DEFAULT_TICK_TOLERANCE_MS;
  const running = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    running.add(p);
    void p.finally(() => running.delete(p));
    return p;
  };
  let stopped = false;

  const tasks = jobs.map((job): ScheduledTask => {
    let busy = false;
    const runOnce = async (now: Date) => {
      // noOverlap skips a fire while the last one runs; this flag also covers a run started by hand.
      if (busy) return;
      busy = true;
      try {
        await job.run(now);
      } catch (e) {
        logger.error(`job ${job.name} failed:`, e);
      } finally {
        busy = false;
      }
    };

    // node-cron reports each dropped slot on its own (a frozen hour = 60 for a per-minute job): one
    // log line and one hook call per streak, once the scheduler's beat has listed them all.
    let streak: MissedRuns | undefined;
    const flush = () => {
      const missed = streak;
      streak = undefined;
      if (!missed || stopped) return;
      const now = new Date();
      logger.warn(
        `job ${job.name} missed ${missed.count === 1 ? 'its run' : `${missed.count} runs`} scheduled ${
          missed.count === 1
            ? missed.first.toISOString()
            : `${missed.first.toISOString()} to ${missed.last.toISOString()}`
        }: the process was blocked or suspended for more than ${seconds(tolerance)} (now ${now.toISOString()})`,
      );
      if (job.missed) {
        const hook = job.missed;
        track(
          hook(missed, now).catch((e: unknown) =>
            logger.error(`job ${job.name}: missed-run hook failed:`, e),
          ),
        );
      }
    };

    const task = cron.schedule(
      job.cron,
      async (context) => {
        const now = new Date();
        const late = now.getTime() - context.date.getTime();
        if (late > LATE_NOTICE_MS) {
          logger.warn(
            `job ${job.name} runs ${seconds(late)} late (scheduled ${context.date.toISOString()}): the process was busy`,
          );
        }
        await track(runOnce(now));
      },
      {
        name: job.name,
        timezone: job.timezone ?? 'UTC',
        noOverlap: true,
        missedExecutionTolerance: tolerance,
        logger: cronLoggerOf(logger),
        suppressMissedWarning: true,
      },
    );
    task.on('execution:missed', (context) => {
      if (streak) {
        streak.count++;
        if (context.date > streak.last) streak.last = context.date;
        if (context.date < streak.first) streak.first = context.date;
        return;
      }
      streak = { first: context.date, last: context.date, count: 1 };
      setImmediate(flush);
    });
    return task;
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(tasks.map((t) => t.stop()));
      await Promise.all(running);
      await Promise.all(tasks.map((t) => t.destroy()));
    },
  };
}
