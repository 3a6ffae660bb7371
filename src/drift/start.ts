/**
 * Wiring of the drift watch for the composition root (bot.ts): the state store on the bot's database,
 * the chart renderers, the watch and its schedule, the `/mlops drift` entry point and the alert
 * buttons. Nothing here decides anything; it connects the parts.
 */
import type { App } from '@slack/bolt';
import { retrainTargetFor } from '../approvals/gate.js';
import type { RetrainRequester } from '../approvals/service.js';
import type { ChangeStore } from '../changes/store.js';
import { createQuickChartRenderer } from '../charts/quickchart.js';
import { createLocalRenderer } from '../charts/render.js';
import type { DriftCommands } from '../commands/deps.js';
import type { Policy } from '../config/policy.js';
import type { ChartRendererKind } from '../config/policy-monitors.js';
import { UserError } from '../domain/errors.js';
import type { Monitors } from '../domain/ports/monitors.js';
import type { Serving } from '../domain/ports/serving.js';
import type { Warehouse } from '../domain/ports/warehouse.js';
import { type Schedule, startSchedule } from '../jobs/schedule.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { driftViews } from '../slack/blocks/views.js';
import type { Directory } from '../slack/directory.js';
import { registerDriftListeners } from '../slack/listeners/drift.js';
import { createDriftStateStore, type DriftStateStore } from './state-store.js';
import type { DriftPublisher } from './types.js';
import { createDriftWatch, type DriftWatch } from './watch.js';

export interface DriftSettings {
  /** Draw every chart with this renderer (the offline sandbox: local). */
  renderer?: ChartRendererKind;
  /** Replace every monitor's schedule (sandbox: every few minutes), or `false` for no schedule (tests). */
  schedule?: string | false;
  /** QuickChart POSTs go through this fetch (short URLs, self-hosted PNGs). */
  quickchartFetch?: typeof fetch;
}

export interface DriftWiringOptions {
  policy: Policy;
  /** Undefined when no SQL warehouse is configured: checks then fail, once, saying how to set one. */
  warehouse: Warehouse | undefined;
  monitors: Monitors;
  serving: Pick<Serving, 'get'>;
  publisher: DriftPublisher;
  dbPath: string;
  clock: Clock;
  logger: Logger;
  settings?: DriftSettings;
}

export interface RunningDriftWatch {
  watch: DriftWatch;
  state: DriftStateStore;
  commands: DriftCommands;
  /** The alert buttons; call once the app exists. */
  registerListeners(
    app: App,
    deps: { audit: Pick<ChangeStore, 'audit'>; retrain?: RetrainRequester; directory: Directory },
  ): void;
  stop(): Promise<void>;
}

/** A warehouse that is not there: every check fails with the fix. */
const missingWarehouse: Warehouse = {
  async query() {
    throw new UserError(
      'no_warehouse',
      'No SQL warehouse is configured, so the monitor tables cannot be read.',
      'Set DATABRICKS_WAREHOUSE_ID (or DATABRICKS_HTTP_PATH) to a warehouse the bot may use, and restart it.',
    );
  },
  async close() {},
};

/**
 * Starts the drift watch of a policy, or returns undefined when the policy has no monitors.
 *
 * @example const drift = startDriftWatch({ policy, warehouse, monitors, serving, publisher, dbPath, clock, logger });
 */
export function startDriftWatch(options: DriftWiringOptions): RunningDriftWatch | undefined {
  const monitors = options.policy.monitors ?? {};
  if (Object.keys(monitors).length === 0) return undefined;
  const { clock, logger, publisher, settings = {} } = options;
  const state = createDriftStateStore(options.dbPath);
  const charts = options.policy.charts;
  const watch = createDriftWatch(
    {
      warehouse: options.warehouse ?? missingWarehouse,
      monitors: options.monitors,
      serving: options.serving,
      state,
      publisher,
      views: driftViews,
      clock,
      logger,
      report: (e) => {
        if (e.kind === 'ok' && (e.result.alertsPosted || e.result.updatesPosted || e.result.recoveries)) {
          logger.info(
            `drift check ${e.monitor}: ${e.result.alertsPosted} alert(s), ${e.result.updatesPosted} update(s), ${e.result.recoveries} recovery(ies)`,
          );
        }
        if (e.kind === 'error') logger.warn(`drift check ${e.monitor} failed:`, (e.error as Error).message);
      },
    },
    {
      monitors,
      ...(charts ? { charts } : {}),
      defaults: options.policy.defaults,
      renderer: (kind) =>
        kind === 'local'
          ? createLocalRenderer()
          : createQuickChartRenderer({
              ...(charts?.quickchartHost ? { host: charts.quickchartHost } : {}),
              ...(settings.quickchartFetch ? { fetch: settings.quickchartFetch } : {}),
            }),
      ...(settings.renderer ? { forceRenderer: settings.renderer } : {}),
      ...(typeof settings.schedule === 'string' ? { scheduleOverride: settings.schedule } : {}),
      canRetrain: (name) => {
        try {
          retrainTargetFor(options.policy, name, options.policy.defaults);
          return true;
        } catch {
          return false;
        }
      },
    },
  );
  const schedule: Schedule | undefined =
    settings.schedule === false ? undefined : startSchedule(watch.jobs(), logger);

  return {
    watch,
    state,
    commands: {
      check: (monitor, origin) => watch.checkFromCommand(monitor, origin, new Date(clock.now())),
    },
    registerListeners(app, deps) {
      registerDriftListeners(app, {
        policy: options.policy,
        monitors: watch.monitors,
        state,
        audit: deps.audit,
        ...(deps.retrain ? { retrain: deps.retrain } : {}),
        publisher,
        views: driftViews,
        directory: deps.directory,
        clock,
        logger,
      });
    },
    async stop() {
      await schedule?.stop();
      await watch.idle();
      state.close();
    },
  };
}
