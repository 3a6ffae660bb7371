/**
 * The one list of scheduled jobs of a process, for the one scheduler (jobs/schedule.ts): approval
 * expiry, the ledger tick and one drift check per monitor. Each job is a function of `now`; scheduling is wiring.
 */
import { runApprovalExpiry } from '../jobs/approval-expiry.js';
import type { Clock } from '../lib/clock.js';
import type { ScheduledJob } from '../lib/cron.js';
import type { Logger } from '../lib/logger.js';
import type { Services } from './services.js';

export interface ScheduleSettings {
  clock: Clock;
  logger: Logger;
  /** When the approval-expiry job runs (node-cron; every minute by default); false: never (tests call it). */
  approvalExpiryCron?: string | false | undefined;
  /** When the ledger reads what Databricks serves (every minute by default); false: never (tests call it). */
  ledgerCron?: string | false | undefined;
}

/** @example startSchedule(scheduledJobs(services, { clock, logger }), logger) */
export function scheduledJobs(services: Services, s: ScheduleSettings): ScheduledJob[] {
  const { clock, logger } = s;
  const expiry: ScheduledJob[] =
    s.approvalExpiryCron === false
      ? []
      : [
          {
            name: 'approval-expiry',
            cron: s.approvalExpiryCron ?? '* * * * *',
            run: async () => {
              await runApprovalExpiry(
                {
                  approvals: services.approvals,
                  report: (e) => {
                    if (e.kind === 'error') logger.error('approval expiry failed:', e.error);
                  },
                },
                clock.now(),
              );
            },
          },
        ];
  const ledger: ScheduledJob[] =
    s.ledgerCron === false
      ? []
      : [
          {
            name: 'ledger',
            cron: s.ledgerCron ?? '* * * * *',
            run: async () => {
              await services.ledger.tick(clock.now());
            },
          },
        ];
  return [...expiry, ...ledger, ...(services.drift?.jobs ?? [])];
}
