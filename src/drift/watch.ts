/**
 * The drift watch as the composition root wires it: the policy's monitors resolved once (model names,
 * rules, chart renderer), one scheduled job per monitor in its time zone, and `check` for
 * `/mlops drift`. Checks of one monitor never overlap: a check asked for while one runs waits for it.
 */
import type { ChartRenderer } from '../charts/renderer.js';
import type { ChartRendererKind, ChartsConfig, MonitorsConfig } from '../config/policy-monitors.js';
import { UserError } from '../domain/errors.js';
import { resolveModelName } from '../domain/model-names.js';
import type { Origin, Reply } from '../domain/vocabulary.js';
import { type DriftCheckDeps, type DriftCheckResult, runDriftCheck } from '../jobs/drift-check.js';
import type { ScheduledJob } from '../jobs/schedule.js';
import { rulesOf } from './rules.js';
import type { WatchedMonitor } from './types.js';

export interface DriftWatchOptions {
  monitors: MonitorsConfig;
  charts?: ChartsConfig;
  defaults: { catalog: string; schema: string };
  /** Builds the renderer of a kind (quickchart with its host, or local). */
  renderer: (kind: ChartRendererKind) => ChartRenderer;
  /** Forces one renderer for every monitor (the offline sandbox: local). */
  forceRenderer?: ChartRendererKind;
  /** Replaces every monitor's schedule (the sandbox checks every few minutes). */
  scheduleOverride?: string;
  /** Whether a monitor's Retrain button has a job to ask for (default: its retrainJob). */
  canRetrain?: (monitor: string) => boolean;
}

export interface DriftWatch {
  monitors: readonly WatchedMonitor[];
  /** One job per monitor, for `startSchedule`. */
  jobs(): ScheduledJob[];
  /** Runs one check now (waiting for one in progress). */
  check(name: string, now: Date, options?: Parameters<typeof runDriftCheck>[3]): Promise<DriftCheckResult>;
  /** `/mlops drift [monitor]`: checks one monitor, or all, and says what was posted. */
  checkFromCommand(name: string | undefined, origin: Origin, now: Date): Promise<Reply>;
  /** Resolves when no check is running. */
  idle(): Promise<void>;
}

/**
 * The monitors of the policy, resolved.
 *
 * @example resolveMonitors(options).map((m) => m.model) // ['acme.mlops.churn_model']
 */
export function resolveMonitors(options: DriftWatchOptions): WatchedMonitor[] {
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
 * const watch = createDriftWatch(checkDeps, { monitors: policy.monitors, charts: policy.charts, defaults: policy.defaults, renderer });
 * const schedule = startSchedule(watch.jobs(), logger);
 */
export function createDriftWatch(deps: DriftCheckDeps, options: DriftWatchOptions): DriftWatch {
  const monitors = resolveMonitors(options);
  const running = new Map<string, Promise<unknown>>();

  function find(name: string): WatchedMonitor {
    const m = monitors.find((x) => x.name === name.toLowerCase());
    if (!m) {
      throw new UserError(
        'unknown_monitor',
        `There is no monitor called "${name}".`,
        monitors.length > 0
          ? `The monitors are ${monitors.map((x) => x.name).join(', ')}.`
          : 'The policy file has no monitors; add one under monitors:.',
      );
    }
    return m;
  }

  async function check(name: string, now: Date, options?: Parameters<typeof runDriftCheck>[3]) {
    const monitor = find(name);
    const before = running.get(monitor.name) ?? Promise.resolve();
    // Started after the previous check of the same monitor, whatever its outcome.
    const run = before.catch(() => {}).then(() => runDriftCheck(deps, monitor, now, options));
    running.set(monitor.name, run);
    try {
      return await run;
    } finally {
      if (running.get(monitor.name) === run) running.delete(monitor.name);
    }
  }

  return {
    monitors,
    jobs: () =>
      monitors.map((m) => ({
        name: `drift-check:${m.name}`,
        cron: m.config.schedule,
        timezone: m.config.timezone,
        run: async (now: Date) => {
          await check(m.name, now);
        },
      })),
    check,
    async checkFromCommand(name, origin, now) {
      if (monitors.length === 0) {
        throw new UserError(
          'no_monitors',
          'No monitor is configured.',
          'Add one under monitors: in the policy file (see modelgate.example.yml).',
        );
      }
      const targets = name ? [find(name)] : monitors;
      const results: DriftCheckResult[] = [];
      for (const m of targets) {
        results.push(
          await check(m.name, now, { report: true, reportChannel: origin.channelId || m.config.channel }),
        );
      }
      return deps.views.checkReply(results);
    },
    async idle() {
      await Promise.all([...running.values()].map((p) => p.catch(() => {})));
    },
  };
}
