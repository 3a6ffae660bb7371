/**
 * Pure: metric windows and thresholds in, ONE Chart.js 4 configuration out. Both renderers draw this
 * same object: the local renderer (chart.js 4 + chartjs-plugin-annotation 3 on @napi-rs/canvas) and
 * QuickChart, asked for Chart.js 4 (`version: '4'`).
 *
 * The threshold is drawn twice over, on purpose: as a dashed dataset (a labelled legend entry that every
 * Chart.js and every QuickChart server draws, even a self-hosted one whose v4 has no annotation plugin)
 * and as an annotation label showing the number on the line (where the plugin exists). Violating
 * windows are red points of a `violating window` dataset drawn over the series. Threshold lines and
 * violation marks are given as {x, y} points, not full-length arrays, and values are cut to four
 * significant digits: a shorter QuickChart URL. Everything is plain JSON (no functions), so the
 * configuration survives a URL or a POST unchanged.
 */
import type { ChartConfiguration, ChartDataset } from 'chart.js';

/**
 * The annotation we use (a labelled horizontal line), typed here: chartjs-plugin-annotation's own
 * typings re-export without file extensions, which NodeNext resolution cannot follow.
 */
interface LineAnnotation {
  type: 'line';
  scaleID: string;
  value: number;
  borderWidth: number;
  label: {
    display: boolean;
    content: string;
    position: 'start' | 'center' | 'end';
    backgroundColor: string;
  };
}

export interface ChartSeriesInput {
  /** Legend label, e.g. `js_distance(churn)` or `|expected_loss|`. */
  label: string;
  /** One value per window (null: no data). */
  values: ReadonlyArray<number | null>;
  threshold: number;
  direction: 'above' | 'below';
  /** One flag per window: this window violates the rule. */
  violating: readonly boolean[];
}

export interface DriftChartInput {
  title: string;
  subtitle?: string;
  /** Window starts (ms, UTC), oldest first. */
  windows: readonly number[];
  /** '1 day', '1 hour', …: sub-day granularities get times in the labels. */
  granularity: string;
  series: readonly ChartSeriesInput[];
}

/** A point given by its x label: threshold ends and violation marks need no full-length arrays. */
export interface LabelledPoint {
  x: string;
  y: number;
}
export type ChartPoint = number | null | LabelledPoint;
export type DriftChartConfig = ChartConfiguration<'line', ChartPoint[], string>;

/** Series drawn at most; the rest are named in the subtitle (the text summary lists every value). */
export const MAX_SERIES = 6;
export const VIOLATION_COLOR = '#d62728';
const SHARED_THRESHOLD_COLOR = '#555555';
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#17becf'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A window start as an axis label, in UTC: `Nov 14`, or `Nov 14 13:00` below a day.
 *
 * @example windowLabel(Date.parse('2026-11-14T00:00:00Z'), '1 day') // 'Nov 14'
 */
export function windowLabel(start: number, granularity: string): string {
  const d = new Date(start);
  const day = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
  if (!/minute|hour/.test(granularity)) return day;
  return `${day} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

/** Thresholds more than 5× apart get their own (right-hand) axis. */
function axisFor(threshold: number, first: number): 'y' | 'y1' {
  const a = Math.abs(threshold) || 1e-9;
  const b = Math.abs(first) || 1e-9;
  return Math.max(a, b) / Math.min(a, b) > 5 ? 'y1' : 'y';
}

const fmt = (n: number) => String(Number(n.toPrecision(4)));
/** Four significant digits: what a chart can show, and a shorter URL. */
const round = (n: number | null): number | null =>
  n === null || !Number.isFinite(n) ? null : Number(n.toPrecision(4));

/**
 * Builds the chart of one rule: each metric over time, its threshold as a labelled line, violating
 * windows marked, dates on the x axis, title and legend.
 *
 * @example
 * buildDriftChart({ title: 'churn · drift', windows, granularity: '1 day',
 *   series: [{ label: 'js_distance(churn)', values, threshold: 0.19, direction: 'above', violating }] })
 */
export function buildDriftChart(input: DriftChartInput): DriftChartConfig {
  const ranked = input.series
    .map((s, i) => ({ s, i, hits: s.violating.filter(Boolean).length }))
    .sort((a, b) => Number(b.hits > 0) - Number(a.hits > 0) || a.i - b.i);
  const shown = ranked
    .slice(0, MAX_SERIES)
    .sort((a, b) => a.i - b.i)
    .map((r) => r.s);
  const hidden = input.series.length - shown.length;
  const first = shown[0]?.threshold ?? 1;

  const labels = input.windows.map((w) => windowLabel(w, input.granularity));
  const datasets: Array<ChartDataset<'line', ChartPoint[]>> = [];
  const thresholds = new Map<string, { value: number; axis: 'y' | 'y1'; label: string; color: string }>();
  const violations: Record<'y' | 'y1', LabelledPoint[]> = { y: [], y1: [] };
  shown.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const axis = axisFor(s.threshold, first);
    datasets.push({
      label: s.label,
      data: labels.map((_, k) => round(s.values[k] ?? null)),
      yAxisID: axis,
      borderColor: color,
      backgroundColor: color,
      pointRadius: 2,
      spanGaps: true,
    });
    labels.forEach((x, k) => {
      const y = round(s.values[k] ?? null);
      if (s.violating[k] === true && y !== null) violations[axis].push({ x, y });
    });
    const metric = s.label.replace(/\(.*\)$/, '');
    const key = `${axis}|${s.threshold}|${s.direction}`;
    const shared = thresholds.get(key);
    // A line several series share is drawn in a neutral colour; a series' own line in its colour.
    if (shared) shared.color = SHARED_THRESHOLD_COLOR;
    else {
      thresholds.set(key, {
        value: s.threshold,
        axis,
        color,
        label: `threshold: ${metric} ${s.direction === 'above' ? '>' : '<'} ${fmt(s.threshold)}`,
      });
    }
  });

  const annotations: Record<string, LineAnnotation> = {};
  const ends = labels.length > 0 ? [labels[0]!, labels[labels.length - 1]!] : [];
  [...thresholds.values()].forEach((t, i) => {
    datasets.push({
      label: t.label,
      data: ends.map((x) => ({ x, y: t.value })),
      yAxisID: t.axis,
      borderColor: t.color,
      borderDash: [6, 4],
      borderWidth: 1.5,
      pointRadius: 0,
      pointStyle: 'line',
    });
    annotations[`threshold${i}`] = {
      type: 'line',
      scaleID: t.axis,
      value: t.value,
      borderWidth: 0,
      label: {
        display: true,
        content: fmt(t.value),
        // Next to the axis the threshold is read on.
        position: t.axis === 'y' ? 'start' : 'end',
        backgroundColor: t.color,
      },
    };
  });
  const twoAxes = violations.y1.length > 0 && violations.y.length > 0;
  for (const axis of ['y', 'y1'] as const) {
    if (violations[axis].length === 0) continue;
    datasets.push({
      label: twoAxes ? `violating window (${axis === 'y' ? 'left' : 'right'} axis)` : 'violating window',
      data: violations[axis],
      yAxisID: axis,
      backgroundColor: VIOLATION_COLOR,
      pointRadius: 6,
      showLine: false,
    });
  }

  const axes = new Set(datasets.map((d) => d.yAxisID).filter(Boolean));
  const axisTitle = (axis: 'y' | 'y1') =>
    [
      ...new Set(
        shown.filter((s) => axisFor(s.threshold, first) === axis).map((s) => s.label.replace(/\(.*\)$/, '')),
      ),
    ].join(', ');
  const subtitle = [input.subtitle, hidden > 0 ? `${hidden} more series not drawn` : undefined]
    .filter(Boolean)
    .join(' · ');

  return {
    type: 'line',
    data: { labels, datasets },
    options: {
      plugins: {
        title: { display: true, text: input.title, font: { size: 16 } },
        ...(subtitle ? { subtitle: { display: true, text: subtitle } } : {}),
        legend: { position: 'bottom', labels: { usePointStyle: true } },
        annotation: { annotations },
      },
      scales: {
        x: { ticks: { maxRotation: 0, maxTicksLimit: 10 } },
        y: { title: { display: true, text: axisTitle('y') } },
        ...(axes.has('y1')
          ? {
              y1: {
                position: 'right',
                grid: { drawOnChartArea: false },
                title: { display: true, text: axisTitle('y1') },
              },
            }
          : {}),
      },
    },
  };
}

/**
 * Text for the image's alt attribute (Slack requires one, at most 2000 characters).
 *
 * @example chartAltText(input) // 'Line chart of js_distance(churn), js_distance(prediction) over 30 windows …'
 */
export function chartAltText(input: DriftChartInput): string {
  const violating = new Set<number>();
  for (const s of input.series) {
    s.violating.forEach((v, i) => {
      if (v) violating.add(i);
    });
  }
  const thresholds = [
    ...new Set(
      input.series.map((s) => `${s.label} ${s.direction === 'above' ? '>' : '<'} ${fmt(s.threshold)}`),
    ),
  ];
  const text = `Line chart "${input.title}": ${input.series.map((s) => s.label).join(', ')} over ${input.windows.length} windows, thresholds ${thresholds.join('; ')}; ${violating.size} violating window${violating.size === 1 ? '' : 's'}.`;
  return text.length > 2000 ? `${text.slice(0, 1999)}…` : text;
}
