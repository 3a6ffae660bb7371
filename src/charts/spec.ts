/**
 * Pure: metric windows and thresholds in, ONE Chart.js 4 configuration out. Both renderers draw this
 * same object: the local renderer (chart.js 4 + chartjs-plugin-annotation 3 on @napi-rs/canvas) and
 * QuickChart, asked for Chart.js 4 (`version: '4'`).
 *
 * What a reader must be able to trust, each a rule of this file (test/unit/chart.test.ts):
 * - a missing value is a gap: nulls are kept and never bridged (`spanGaps: false`);
 * - the threshold's number is never drawn over the data: it is in the legend entry of its line and in
 *   its axis title, outside the plot area; the line itself is a dashed dataset (drawn by every
 *   Chart.js, even a self-hosted QuickChart without the annotation plugin) and a line annotation
 *   bound to the same scale id (where the plugin exists);
 * - two thresholds on two axes never draw as one line: each axis gets explicit bounds chosen so the
 *   lines sit apart, and the right axis's lines are dotted where the left's are dashed;
 * - violating windows have one legend entry (marks of right-axis series are placed on the left
 *   axis at the same height, which the explicit bounds make exact);
 * - the window still in progress is marked (hollow ring, `(partial)` tick, legend entry);
 * - the last tick is the last point: the windows are listed newest first on a reversed x axis (still
 *   read left to right, oldest to newest), because Chart.js's tick skipping always keeps the first
 *   label and may drop the last one.
 * Marks and threshold ends are {x: label, y} points, and values are cut to four significant digits:
 * a shorter QuickChart URL.
 * Everything is plain JSON (no functions), so the configuration survives a URL or a POST unchanged.
 */
import type { ChartConfiguration, ChartDataset } from 'chart.js';

/**
 * The annotation we use (a horizontal line on one scale), typed here: chartjs-plugin-annotation's
 * own typings re-export without file extensions, which NodeNext resolution cannot follow.
 */
export interface LineAnnotation {
  type: 'line';
  scaleID: 'y' | 'y1';
  value: number;
  borderColor: string;
  borderWidth: number;
  borderDash: number[];
  label: { display: false };
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
  /** One flag per window: it had not ended when checked (its values may still change). */
  inProgress?: readonly boolean[];
}

/** A point given by its x label: threshold ends and marks need no full-length arrays. */
export interface LabelledPoint {
  x: string;
  y: number;
}
export type ChartPoint = number | null | LabelledPoint;
export type DriftChartConfig = ChartConfiguration<'line', ChartPoint[], string>;

/** Series drawn at most; the rest are named in the subtitle (the text summary lists every value). */
export const MAX_SERIES = 6;
/** Labelled ticks at most on the x axis (Chart.js skips more when the labels do not fit). */
export const MAX_TICKS = 10;
/** Least distance between two thresholds on different axes, as a share of the plot's height. */
export const MIN_THRESHOLD_GAP = 0.1;
export const VIOLATION_COLOR = '#d62728';
export const IN_PROGRESS_COLOR = '#444444';
export const VIOLATION_LABEL = 'violating window';
export const IN_PROGRESS_LABEL = 'window in progress (values may change)';
export const PARTIAL_TICK = ' (partial)';
/** Left-axis thresholds are dashed, right-axis ones dotted: never mistaken for each other. */
export const THRESHOLD_DASH = { y: [6, 4], y1: [2, 3] } as const;
const SHARED_THRESHOLD_COLOR = '#555555';
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#17becf'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

type Axis = 'y' | 'y1';

/**
 * A window start as an axis label, in UTC: `Nov 14`, or `Nov 14 13:00` below a day.
 *
 * @example windowLabel(Date.parse('2026-11-14T00:00:00Z'), '1 day') // 'Nov 14'
 */
export function windowLabel(start: number, granularity: string): string {
  const d = new Date(start);
  const day = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
  if (!subDay(granularity)) return day;
  return `${day} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

const subDay = (granularity: string) => /minute|hour/.test(granularity);

/** Thresholds more than 5× apart get their own (right-hand) axis. */
function axisFor(threshold: number, first: number): Axis {
  const a = Math.abs(threshold) || 1e-9;
  const b = Math.abs(first) || 1e-9;
  return Math.max(a, b) / Math.min(a, b) > 5 ? 'y1' : 'y';
}

const fmt = (n: number) => String(Number(n.toPrecision(4)));
/** Four significant digits: what a chart can show, and a shorter URL. */
const round = (n: number | null | undefined): number | null =>
  n === null || n === undefined || !Number.isFinite(n) ? null : Number(n.toPrecision(4));
/** Cuts float noise (0.30000000000000004) off computed bounds. */
const clean = (n: number) => Number(n.toPrecision(12));
const metricOf = (label: string) => label.replace(/\(.*\)$/, '');
const sign = (d: 'above' | 'below') => (d === 'above' ? '>' : '<');

export interface AxisBounds {
  min: number;
  max: number;
}

/** A round step for about five intervals over `span`. */
function niceStep(span: number): number {
  const raw = span / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const n = raw / magnitude;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * magnitude;
}

/** Round bounds around every value (data and thresholds) of an axis, and their step. */
function boundsOf(values: readonly number[]): AxisBounds & { step: number } {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi === lo) {
    const d = Math.abs(lo) * 0.1 || 1;
    lo -= d;
    hi += d;
  }
  // A margin, so that a point on the edge is not cut in half.
  const margin = (hi - lo) * 0.05;
  lo -= margin;
  hi += margin;
  const step = niceStep(hi - lo);
  return { min: clean(Math.floor(lo / step) * step), max: clean(Math.ceil(hi / step) * step), step };
}

/** Height of `v` in the plot, 0 (bottom) to 1 (top). */
const heightIn = (b: AxisBounds, v: number) => (v - b.min) / (b.max - b.min);

/**
 * Bounds for two axes such that no threshold of the right axis sits within MIN_THRESHOLD_GAP of one
 * of the left axis: the right axis is widened, a step at a time, upwards first (keeping its floor,
 * often 0 for distances), else downwards.
 */
function separatedBounds(
  values: Record<Axis, number[]>,
  thresholds: Record<Axis, number[]>,
): Record<Axis, AxisBounds> {
  const y = boundsOf([...values.y, ...thresholds.y]);
  const y1 = boundsOf([...values.y1, ...thresholds.y1]);
  const apart = (b: AxisBounds) =>
    thresholds.y.every((a) =>
      thresholds.y1.every((t) => Math.abs(heightIn(y, a) - heightIn(b, t)) >= MIN_THRESHOLD_GAP),
    );
  const pick = (): AxisBounds => {
    if (apart(y1)) return { min: y1.min, max: y1.max };
    for (let i = 1; i <= 20; i++) {
      const up = { min: y1.min, max: clean(y1.max + i * y1.step) };
      if (apart(up)) return up;
      const down = { min: clean(y1.min - i * y1.step), max: y1.max };
      if (apart(down)) return down;
    }
    return { min: y1.min, max: y1.max };
  };
  return { y: { min: y.min, max: y.max }, y1: pick() };
}

/**
 * Builds the chart of one rule: each metric over time, its threshold as a line named in the legend,
 * violating windows marked, the window in progress marked, dates on the x axis, title and legend.
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
  const n = input.windows.length;
  const axisOf = (s: ChartSeriesInput) => axisFor(s.threshold, first);
  const valuesOf = (s: ChartSeriesInput) => input.windows.map((_, k) => round(s.values[k]));
  const inProgress = input.windows.map((_, k) => input.inProgress?.[k] === true);

  const label = input.windows.map(
    (w, k) => `${windowLabel(w, input.granularity)}${inProgress[k] ? PARTIAL_TICK : ''}`,
  );
  // Newest first, on a reversed axis: Chart.js keeps the first label when it skips some.
  const newestFirst = <T>(xs: readonly T[]): T[] => [...xs].reverse();
  const labels = newestFirst(label);

  const twoAxes = new Set(shown.map(axisOf)).size === 2;
  const axisValues: Record<Axis, number[]> = { y: [], y1: [] };
  const axisThresholds: Record<Axis, number[]> = { y: [], y1: [] };
  for (const s of shown) {
    axisValues[axisOf(s)].push(...valuesOf(s).filter((v): v is number => v !== null));
    axisThresholds[axisOf(s)].push(s.threshold);
  }
  const bounds = twoAxes ? separatedBounds(axisValues, axisThresholds) : undefined;
  /** Where a value of `axis` sits on the left axis (one marks dataset for both axes). */
  const onLeft = (axis: Axis, v: number): number =>
    !bounds || axis === 'y'
      ? v
      : Number((bounds.y.min + heightIn(bounds.y1, v) * (bounds.y.max - bounds.y.min)).toPrecision(4));

  const datasets: Array<ChartDataset<'line', ChartPoint[]>> = [];
  const thresholds = new Map<string, { value: number; axis: Axis; label: string; color: string }>();
  const violations: LabelledPoint[] = [];
  const partial: LabelledPoint[] = [];
  shown.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const axis = axisOf(s);
    const data = valuesOf(s);
    datasets.push({
      label: s.label,
      data: newestFirst(data),
      yAxisID: axis,
      borderColor: color,
      backgroundColor: color,
      pointRadius: 2,
      // A window without data is a gap, not a straight line between its neighbours.
      spanGaps: false,
    });
    data.forEach((y, k) => {
      if (y === null) return;
      if (s.violating[k] === true) violations.push({ x: label[k]!, y: onLeft(axis, y) });
      if (inProgress[k]) partial.push({ x: label[k]!, y: onLeft(axis, y) });
    });
    const key = `${axis}|${s.threshold}|${s.direction}`;
    const shared = thresholds.get(key);
    // A line several series share is drawn in a neutral colour; a series' own line in its colour.
    if (shared) shared.color = SHARED_THRESHOLD_COLOR;
    else {
      thresholds.set(key, {
        value: s.threshold,
        axis,
        color,
        label: `threshold: ${metricOf(s.label)} ${sign(s.direction)} ${fmt(s.threshold)}${twoAxes ? ` (${axis === 'y' ? 'left' : 'right'} axis)` : ''}`,
      });
    }
  });

  const annotations: Record<string, LineAnnotation> = {};
  const ends = n > 0 ? [label[0]!, label[n - 1]!] : [];
  [...thresholds.values()].forEach((t, i) => {
    const dash = [...THRESHOLD_DASH[t.axis]];
    datasets.push({
      label: t.label,
      data: ends.map((x) => ({ x, y: t.value })),
      yAxisID: t.axis,
      borderColor: t.color,
      borderDash: dash,
      borderWidth: 1.5,
      pointRadius: 0,
      pointStyle: 'line',
    });
    annotations[`threshold${i}`] = {
      type: 'line',
      scaleID: t.axis,
      value: t.value,
      borderColor: t.color,
      borderWidth: 1.5,
      borderDash: dash,
      // The number is in the legend and the axis title: a label on the line would cover data.
      label: { display: false },
    };
  });
  if (violations.length > 0) {
    datasets.push({
      label: VIOLATION_LABEL,
      data: violations,
      yAxisID: 'y',
      backgroundColor: VIOLATION_COLOR,
      borderColor: VIOLATION_COLOR,
      pointRadius: 6,
      showLine: false,
    });
  }
  if (partial.length > 0) {
    datasets.push({
      label: IN_PROGRESS_LABEL,
      data: partial,
      yAxisID: 'y',
      backgroundColor: 'rgba(0,0,0,0)',
      borderColor: IN_PROGRESS_COLOR,
      pointRadius: 9,
      pointBorderWidth: 2,
      showLine: false,
    });
  }

  const axisTitle = (axis: Axis) => {
    const onAxis = shown.filter((s) => axisOf(s) === axis);
    const metrics = [...new Set(onAxis.map((s) => metricOf(s.label)))].join(', ');
    const limits = [...new Set(onAxis.map((s) => `${sign(s.direction)} ${fmt(s.threshold)}`))].join(', ');
    return `${metrics} (threshold ${limits})`;
  };
  const subtitle = [input.subtitle, hidden > 0 ? `${hidden} more series not drawn` : undefined]
    .filter(Boolean)
    .join(' · ');
  const usesY1 = shown.some((s) => axisOf(s) === 'y1');

  // On the reversed axis Chart.js pads the right edge for the oldest label, not the newest one
  // drawn there: room for half the newest label (about 7 px a character) unless a right axis has it.
  const newest = labels[0] ?? '';
  const right = usesY1 ? 0 : Math.ceil(newest.length * 3.5);

  return {
    type: 'line',
    data: { labels, datasets },
    options: {
      ...(right > 0 ? { layout: { padding: { right } } } : {}),
      plugins: {
        title: { display: true, text: input.title, font: { size: 16 } },
        ...(subtitle ? { subtitle: { display: true, text: subtitle } } : {}),
        legend: { position: 'bottom', labels: { usePointStyle: true } },
        annotation: { annotations },
      },
      scales: {
        // Reversed: the newest window (listed first) on the right, and always labelled.
        x: { reverse: true, ticks: { maxRotation: 0, maxTicksLimit: MAX_TICKS } },
        y: {
          // Explicit bounds carry their own margin; otherwise a point on the edge is not cut in half.
          ...(bounds ? bounds.y : { grace: '5%' }),
          title: { display: true, text: axisTitle('y') },
        },
        ...(usesY1
          ? {
              y1: {
                position: 'right',
                ...(bounds ? bounds.y1 : {}),
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
