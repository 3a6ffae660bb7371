/**
 * A monitor's latest figures for the versions an approval request compares: the metrics of the
 * monitor's own rules (quality from the profile table, drift from the drift table), read through
 * the SQL warehouse with the drift check's queries (drift/queries.ts), one query per table, for
 * the two model ids only. The latest window with a value is taken per version.
 */

import type { MonitorConfig } from '../config/policy-monitors.js';
import { resolveModelName } from '../domain/model-names.js';
import type { Monitors } from '../domain/ports/monitors.js';
import type { Warehouse } from '../domain/ports/warehouse.js';
import { buildMetricQuery, type MetricRow, toWindows } from '../drift/queries.js';
import { comparedValue, type MetricWindow, rulesOf, termsOf } from '../drift/rules.js';
import type { Clock } from '../lib/clock.js';
import type { FiguresSource, MonitorFigures } from './evidence.js';
import type { Defaults } from './gate.js';

export interface MonitorFiguresDeps {
  warehouse: Warehouse;
  monitors: Pick<Monitors, 'findMetricTables'>;
  monitorsByName: Readonly<Record<string, MonitorConfig>> | undefined;
  defaults: Defaults;
  clock: Clock;
}

const DAY = 86_400_000;

/** The latest window of a model id that has any value. */
function latest(windows: readonly MetricWindow[] | undefined): MetricWindow | undefined {
  return [...(windows ?? [])]
    .reverse()
    .find((w) => Object.values(w.values).some((v) => v !== null && v !== undefined));
}

/**
 * @example const figures = createMonitorFigures({ warehouse, monitors, monitorsByName: policy.monitors, defaults, clock });
 * await figures.figuresFor('acme.mlops.churn_model', 3, 2); // { monitor: 'churn', rows: [{ label: 'f1_score.macro', incoming: 0.61, outgoing: 0.47 }, …] }
 */
export function createMonitorFigures(deps: MonitorFiguresDeps): FiguresSource {
  return {
    async figuresFor(model, incoming, outgoing): Promise<MonitorFigures | undefined> {
      const entry = Object.entries(deps.monitorsByName ?? {}).find(
        ([, m]) => resolveModelName(m.model, deps.defaults).toLowerCase() === model.toLowerCase(),
      );
      if (!entry) return undefined;
      const [name, monitor] = entry;
      const terms = termsOf(rulesOf(monitor));
      if (terms.length === 0) return undefined;
      const found =
        monitor.profileTable && monitor.driftTable
          ? undefined
          : await deps.monitors.findMetricTables(monitor.table ?? '');
      const tables = {
        profile: monitor.profileTable ?? found!.profileTable,
        drift: monitor.driftTable ?? found!.driftTable,
      };
      const modelIds = [String(incoming), ...(outgoing !== undefined ? [String(outgoing)] : [])];
      const input = {
        modelIdColumn: monitor.modelIdColumn ?? found?.modelIdColumn ?? 'model_version',
        modelIds,
        granularity: monitor.granularity,
        since: new Date(deps.clock.now() - monitor.history * DAY),
      };
      const read = async (kind: 'profile' | 'drift'): Promise<MetricRow[]> => {
        const own = terms.filter((t) => t.table === kind);
        if (own.length === 0) return [];
        const q = buildMetricQuery(kind, { ...input, table: tables[kind], terms: own });
        return deps.warehouse.query(q.sql, q.params, q.rowSchema);
      };
      const [profile, drift] = await Promise.all([read('profile'), read('drift')]);
      const windows = toWindows(profile, drift);
      const a = latest(windows.get(String(incoming)));
      const b = outgoing !== undefined ? latest(windows.get(String(outgoing))) : undefined;
      if (!a && !b) return undefined;
      const at = Math.max(a?.start ?? 0, b?.start ?? 0);
      return {
        monitor: name,
        ...(at > 0 ? { windowStart: at } : {}),
        rows: terms.map((t) => ({
          label: t.label,
          // As the rules compare them: |expected_loss| is shown as a magnitude.
          incoming: comparedValue(t, a?.values[t.key]),
          outgoing: comparedValue(t, b?.values[t.key]),
        })),
      };
    },
  };
}
