/**
 * The one list of scheduled jobs of a process, for the one scheduler (jobs/schedule.ts): approval
 * expiry, the ledger tick and one drift check per monitor. Each job is a function of `now`; scheduling is wiring.
 */
import { runApprovalExpiry } from '../jobs/approval-expiry.js';
import { runRolloutDriver } from '../jobs/rollout-driver.js';
import { runWorkTakeover } from '../jobs/rollout-watch.js';
import type { Clock } from '../lib/clock.js';
import type { ScheduledJob } from '../lib/cron.js';
import type { Logger } from '../lib/logger.js';
import type { Services } from './services.js';

export interface ScheduleSettings {
  clock: Clock;
  logger: Logger;
  /** When the approval-expiry job runs (node-cron; every minute by default); false: never (tests call it). */
  approvalExpiryCron?: string | false | undefined;
  /** Taking over work whose owner died: the owners' lease, and when (every minute by default; false: never). */
  takeover?: { leaseMs: number; cron?: string | false | undefined } | undefined;
  /** When the ledger reads what Databricks serves (every minute by default); false: never (tests call it). */
  ledgerCron?: string | false | undefined;
  /** When the canary rollouts are driven (every minute by default); false: never (tests call it). */
  rolloutDriverCron?: string | false | undefined;
  /** When deployment-job runs are checked for approval (every minute by default); false: never (tests call it). */
  deploymentJobsCron?: string | false | undefined;
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
  const takeover = s.takeover;
  const takeovers: ScheduledJob[] =
    !takeover || takeover.cron === false
      ? []
      : [
          {
            name: 'work-takeover',
            cron: takeover.cron ?? '* * * * *',
            run: async () => {
              await runWorkTakeover(
                {
                  pipeline: services.pipeline,
                  approvals: services.approvals,
                  leaseMs: takeover.leaseMs,
                  report: (e) => {
                    if (e.kind === 'error') logger.error('taking over work failed:', e.error);
                    else if (e.changes.followed + e.changes.ended + e.executions.resumed > 0) {
                      logger.warn(
                        `took over work whose owner stopped: ${e.changes.followed} rollout(s) followed, ` +
                          `${e.changes.ended} change(s) settled, ${e.executions.resumed} execution(s) resumed`,
                      );
                    }
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
  const rolloutDriver: ScheduledJob[] =
    s.rolloutDriverCron === false
      ? []
      : [
          {
            name: 'rollout-driver',
            cron: s.rolloutDriverCron ?? '* * * * *',
            run: async () => {
              await runRolloutDriver(
                {
                  driver: services.rollouts.driver,
                  report: (e) => {
                    if (e.kind === 'error') logger.error('driving the canary rollouts failed:', e.error);
                  },
                },
                clock.now(),
              );
            },
          },
        ];
  const check = services.deploymentJobs;
  const deployments: ScheduledJob[] =
    !check || s.deploymentJobsCron === false
      ? []
      : [
          {
            name: 'deployment-jobs',
            cron: s.deploymentJobsCron ?? '* * * * *',
            run: async () => {
              await check.tick(clock.now());
            },
          },
        ];
  return [
    ...expiry,
    ...takeovers,
    ...ledger,
    ...rolloutDriver,
    ...deployments,
    ...(services.drift?.jobs ?? []),
  ];
}
