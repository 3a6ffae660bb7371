/**
 * The drift watch, from collaborators the composition root built: the policy's monitors resolved once
 * (model names, rules, chart renderer), one job description per monitor in its time zone (the one
 * schedule runs them), the drift command, and the alert buttons' actions. Checks of one monitor never
 * overlap: a check asked for while one runs waits for it. Opens no connection and starts no timer.
 */
import type { ChartRenderer } from '../charts/renderer.js';
import type { Policy } from '../config/policy.js';
import type { ChartRendererKind, ChartsConfig, MonitorsConfig } from '../config/policy-monitors.js';
import { UserError } from '../domain/errors.js';
import { resolveModelName } from '../domain/model-names.js';
import type { Monitors } from '../domain/ports/monitors.js';
import type { Serving } from '../domain/ports/serving.js';
import type { Warehouse } from '../domain/ports/warehouse.js';
import type { Origin, Reply } from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';
import type { MissedRuns, ScheduledJob } from '../lib/cron.js';
import type { Logger } from '../lib/logger.js';
import { createDriftAlertActions, type DriftAlertActions } from './alert-actions.js';
import type { DriftRetrainStore } from './retrain-store.js';
import { rulesOf } from './rules.js';
import type { DriftStateStore } from './state-store.js';
import type {
  DriftActionViews,
  DriftAudit,
  DriftCheckDeps,
  DriftCheckOptions,
  DriftCheckResult,
  DriftPublisher,
  DriftRetrainer,
  DriftViews,
  RunDriftCheck,
  WatchedMonitor,
} from './types.js';

export interface DriftSettings {
  /** Draw every chart with this renderer (the offline sandbox: local). */
  renderer?: ChartRendererKind;
  /** Replace every monitor's schedule (sandbox: every few minutes), or `false` for no schedule (tests). */
  schedule?: string | false;
  /** QuickChart POSTs go through this fetch (short URLs, self-hosted PNGs). */
  quickchartFetch?: typeof fetch;
}

/** The drift command: runs checks now and says what was posted. */
export interface DriftCommands {
  check(monitor: string | undefined, origin: Origin): Promise<Reply>;
}

export interface DriftWatchDeps {
  policy: Pick<Policy, 'monitors' | 'charts' | 'defaults'>;
  /** Built by wiring, on the process's database. */
  state: DriftStateStore;
  /** One retraining request per model per alert episode (built by wiring, on the same database). */
  retrains?: DriftRetrainStore;
  /** Undefined when no SQL warehouse is configured: checks then fail, once, saying how to set one. */
  warehouse: Warehouse | undefined;
  monitors: Pick<Monitors, 'findMetricTables' | 'refresh' | 'getRefresh'>;
  serving: Pick<Serving, 'get'>;
  publisher: DriftPublisher;
  views: DriftViews;
  actionViews: DriftActionViews;
  /** Alert clicks go to the audit log. */
  audit: DriftAudit;
  /** Gated retraining requests (approvals); without it, Retrain says it is not available. */
  retrain?: DriftRetrainer;
  /** Builds the chart renderer of a kind (charts/renderers.ts). */
  renderer: (kind: ChartRendererKind) => ChartRenderer;
  /** One check of one monitor (jobs/drift-check.ts runDriftCheck). */
  runCheck: RunDriftCheck;
  clock: Clock;
  logger: Logger;
  /** Shutdown: ends refresh waits at once. */
  signal?: AbortSignal;
  settings?: DriftSettings;
  /** Monitor refresh waits (tests shorten them). */
  refreshWait?: DriftCheckDeps['refreshWait'];
  /** Runs after each check that read (automatic retrain requests); its failure is logged, not thrown. */
  afterCheck?: (monitor: WatchedMonitor, result: DriftCheckResult) => Promise<void>;
}

export interface DriftWatch {
  monitors: readonly WatchedMonitor[];
  /** One job per monitor for the one schedule; none when the settings turn the schedule off. */
  jobs: ScheduledJob[];
  commands: DriftCommands;
  actions: DriftAlertActions;
  /** Runs one check now (waiting for one in progress). */
  check(name: string, now: Date, options?: DriftCheckOptions): Promise<DriftCheckResult>;
  /** Resolves when no check is running. */
  idle(): Promise<void>;
}

const WEEK_MS = 7 * 86_400_000;

/** A warehouse that is not there: every check fails with the fix. */
const missingWarehouse: Warehouse = {
  async query() {
    throw new UserError('no_warehouse', {});
  },
  async close() {},
};

/**
 * The monitors of the policy, resolved.
 *
 * @example resolveMonitors({ monitors: policy.monitors, defaults, renderer }).map((m) => m.model) // ['acme.mlops.churn_model']
 */
export function resolveMonitors(options: {
  monitors: MonitorsConfig;
  charts?: ChartsConfig | undefined;
  defaults: { catalog: string; schema: string };
  renderer: (kind: ChartRendererKind) => ChartRenderer;
  forceRenderer?: ChartRendererKind | undefined;
  scheduleOverride?: string | undefined;
  canRetrain?: ((monitor: string) => boolean) | undefined;
}): WatchedMonitor[] {
  const renderers = new Map<ChartRendererKind, ChartRenderer>();
  const rendererOf = (kind: ChartRendererKind) => {
    let r = renderers.get(kind);
    if (!r) {
      r = options.renderer(kind);
      renderers.set(kind, r);
    }
    return r;
  };
  return Object.entries(options.monitors).map(([name, config]) => ({
    name,
    config: options.scheduleOverride ? { ...config, schedule: options.scheduleOverride } : config,
    model: resolveModelName(config.model, options.defaults),
    rules: rulesOf(config),
    renderer: rendererOf(
      options.forceRenderer ?? config.renderer ?? options.charts?.renderer ?? 'quickchart',
    ),
    retrainable: options.canRetrain?.(name) ?? config.retrainJob !== undefined,
  }));
}

/**
 * @example
 * const drift = createDriftWatch({ policy, state, warehouse, monitors, serving, publisher, views, actionViews, audit, retrain, renderer, runCheck: runDriftCheck, clock, logger });
 * const schedule = startSchedule([...otherJobs, ...drift.jobs], logger);
 */
export function createDriftWatch(deps: DriftWatchDeps): DriftWatch {
  const { clock, logger, settings = {} } = deps;
  const retrain = deps.retrain;
  const monitors = resolveMonitors({
    monitors: deps.policy.monitors ?? {},
    charts: deps.policy.charts,
    defaults: deps.policy.defaults,
    renderer: deps.renderer,
    forceRenderer: settings.renderer,
    scheduleOverride: typeof settings.schedule === 'string' ? settings.schedule : undefined,
    canRetrain: retrain
      ? (name) => {
          try {
            retrain.retrainTarget(name);
            return true;
          } catch {
            return false;
          }
        }
      : undefined,
  });
  const checkDeps: DriftCheckDeps = {
    warehouse: deps.warehouse ?? missingWarehouse,
    monitors: deps.monitors,
    serving: deps.serving,
    state: deps.state,
    ...(deps.retrains ? { retrains: deps.retrains } : {}),
    publisher: deps.publisher,
    views: deps.views,
    clock,
    logger,
    ...(deps.signal ? { signal: deps.signal } : {}),
    ...(deps.refreshWait ? { refreshWait: deps.refreshWait } : {}),
    report: (e) => {
      if (e.kind === 'ok' && (e.result.alertsPosted || e.result.updatesPosted || e.result.recoveries)) {
        logger.info(
          `drift check ${e.monitor}: ${e.result.alertsPosted} alert(s), ${e.result.updatesPosted} update(s), ${e.result.recoveries} recovery(ies)`,
        );
      }
      if (e.kind === 'error') logger.warn(`drift check ${e.monitor} failed:`, (e.error as Error).message);
    },
  };
  const running = new Map<string, Promise<unknown>>();

  function find(name: string): WatchedMonitor {
    const m = monitors.find((x) => x.name === name.toLowerCase());
    if (!m) {
      throw new UserError('unknown_monitor', { name, monitors: monitors.map((x) => x.name) });
    }
    return m;
  }

  /**
   * A scheduled check that never ran on time (the process was blocked or down past the schedule's
   * tolerance): recorded, then run now, since the check catches up on every window it has not seen.
   */
  async function catchUp(m: WatchedMonitor, missed: MissedRuns, now: Date): Promise<void> {
    const recorded = await deps.state.recordMissedCheck({
      monitor: m.name,
      scheduledAt: missed.first.getTime(),
      lastScheduledAt: missed.last.getTime(),
      runs: missed.count,
      noticedAt: now.getTime(),
    });
    if (!recorded) return;
    const result = await check(m.name, now);
    await deps.state.setMissedCheckCaughtUp(m.name, missed.first.getTime(), clock.now());
    logger.warn(
      `drift check ${m.name}: the run scheduled ${missed.first.toISOString()} did not happen on time; caught up (${result.outcome})`,
    );
  }

  /** The drift command's summary, with the latest missed scheduled check of the past week. */
  async function withMissed(result: DriftCheckResult, now: Date): Promise<DriftCheckResult> {
    const missed = await deps.state.lastMissedCheck(result.monitor, now.getTime() - WEEK_MS);
    if (!missed) return result;
    return {
      ...result,
      missed: {
        scheduledAt: missed.scheduledAt,
        runs: missed.runs,
        ...(missed.caughtUpAt !== undefined ? { caughtUpAt: missed.caughtUpAt } : {}),
      },
    };
  }

  async function check(name: string, now: Date, options?: DriftCheckOptions) {
    const monitor = find(name);
    const before = running.get(monitor.name) ?? Promise.resolve();
    // Started after the previous check of the same monitor, whatever its outcome.
    const run = before
      .catch(() => {})
      .then(() => deps.runCheck(checkDeps, monitor, now, options))
      .then(async (result) => {
        if (deps.afterCheck && result.outcome === 'ok') {
          await deps.afterCheck(monitor, result).catch((e: unknown) => {
            logger.error(`drift check ${monitor.name}: the step after the check failed:`, e);
          });
        }
        return result;
      });
    running.set(monitor.name, run);
    try {
      return await run;
    } finally {
      if (running.get(monitor.name) === run) running.delete(monitor.name);
    }
  }

  return {
    monitors,
    jobs:
      settings.schedule === false
        ? []
        : monitors.map((m) => ({
            name: `drift-check:${m.name}`,
            cron: m.config.schedule,
            timezone: m.config.timezone,
            run: async (now: Date) => {
              await check(m.name, now);
            },
            missed: (missed: MissedRuns, now: Date) => catchUp(m, missed, now),
          })),
    commands: {
      async check(name, origin) {
        const now = new Date(clock.now());
        if (monitors.length === 0) {
          throw new UserError('no_monitors', {});
        }
        const targets = name ? [find(name)] : monitors;
        const results: DriftCheckResult[] = [];
        for (const m of targets) {
          const result = await check(m.name, now, {
            report: true,
            reportChannel: origin.channelId || m.config.channel,
          });
          results.push(await withMissed(result, now));
        }
        return deps.views.checkReply(results);
      },
    },
    actions: createDriftAlertActions({
      state: deps.state,
      audit: deps.audit,
      ...(retrain ? { retrain } : {}),
      ...(deps.retrains ? { retrains: deps.retrains } : {}),
      rulesOf: (name) => monitors.find((m) => m.name === name)?.rules.map((r) => r.name) ?? [],
      publisher: deps.publisher,
      views: deps.views,
      actionViews: deps.actionViews,
      clock,
    }),
    check,
    async idle() {
      await Promise.all([...running.values()].map((p) => p.catch(() => {})));
    },
  };
}
