import { describe, expect, it } from 'vitest';
import { decodeQuickChartUrl, quickChartFor, SLACK_IMAGE_URL_MAX } from '../../src/charts/quickchart.js';
import { createLocalRenderer, drawnAxes, renderChartPng } from '../../src/charts/render.js';
import {
  buildDriftChart,
  chartAltText,
  type DriftChartInput,
  MAX_TICKS,
  windowLabel,
} from '../../src/charts/spec.js';

const DAY = 86_400_000;
const start = Date.parse('2026-10-22T00:00:00Z');
const windows = Array.from({ length: 10 }, (_, i) => start + i * DAY);
const violating = windows.map((_, i) => i >= 7);

const driftInput: DriftChartInput = {
  title: 'churn · drift · model id *',
  subtitle: '2026-10-22 to 2026-10-31 (UTC)',
  windows,
  granularity: '1 day',
  series: [
    {
      label: 'js_distance(churn)',
      values: windows.map((_, i) => (i >= 7 ? 0.27 : 0.05)),
      threshold: 0.19,
      direction: 'above',
      violating,
    },
    {
      label: 'js_distance(prediction)',
      values: windows.map((_, i) => (i === 3 ? null : i >= 7 ? 0.24 : 0.04)),
      threshold: 0.19,
      direction: 'above',
      violating,
    },
  ],
};

const performanceInput: DriftChartInput = {
  ...driftInput,
  title: 'churn · performance · model id *',
  series: [
    {
      label: 'f1_score.macro',
      values: windows.map((_, i) => (i >= 7 ? 0.4 : 0.7)),
      threshold: 0.5,
      direction: 'below',
      violating,
    },
    {
      label: '|expected_loss|',
      values: windows.map((_, i) => (i >= 7 ? 41 : 12)),
      threshold: 30,
      direction: 'above',
      violating,
    },
  ],
};

type Dataset = {
  label: string;
  data: unknown[];
  yAxisID?: string;
  showLine?: boolean;
  spanGaps?: boolean;
  borderDash?: number[];
};
type Annotation = {
  type: string;
  scaleID: string;
  value: number;
  borderDash: number[];
  label: { display: boolean };
};
type Scale = {
  min?: number;
  max?: number;
  reverse?: boolean;
  title?: { text: string };
  ticks?: { maxTicksLimit?: number };
};
const datasets = (input: DriftChartInput) => buildDriftChart(input).data.datasets as unknown as Dataset[];
const annotationsOf = (config: ReturnType<typeof buildDriftChart>) =>
  Object.values(
    (config.options!.plugins as unknown as { annotation: { annotations: Record<string, Annotation> } })
      .annotation.annotations,
  );
const scalesOf = (config: ReturnType<typeof buildDriftChart>) =>
  config.options?.scales as unknown as Record<string, Scale>;
const thresholdLines = (input: DriftChartInput) =>
  datasets(input).filter((d) => d.label.startsWith('threshold'));

describe('buildDriftChart', () => {
  it('holds every metric value per window, with dates as labels (newest first, on a reversed axis)', () => {
    const config = buildDriftChart(driftInput);
    expect(config.type).toBe('line');
    expect([...(config.data.labels ?? [])].reverse()).toEqual([
      'Oct 22',
      'Oct 23',
      'Oct 24',
      'Oct 25',
      'Oct 26',
      'Oct 27',
      'Oct 28',
      'Oct 29',
      'Oct 30',
      'Oct 31',
    ]);
    const [churn, prediction] = datasets(driftInput);
    expect(churn).toMatchObject({
      label: 'js_distance(churn)',
      data: [...driftInput.series[0]!.values].reverse(),
    });
    expect(prediction?.data[6]).toBeNull();
  });

  it('shows a missing value as a gap: the null is kept and never bridged', () => {
    const [churn, prediction] = datasets(driftInput);
    expect(prediction).toMatchObject({ spanGaps: false });
    expect(prediction?.data.slice(5, 8)).toEqual([0.04, null, 0.04]);
    expect(churn?.spanGaps).toBe(false);
  });

  it('draws the threshold as a dashed line across the chart, once per shared threshold, its number outside the plot', () => {
    const config = buildDriftChart(driftInput);
    expect(thresholdLines(driftInput)).toEqual([
      expect.objectContaining({
        label: 'threshold: js_distance > 0.19',
        data: [
          { x: 'Oct 22', y: 0.19 },
          { x: 'Oct 31', y: 0.19 },
        ],
        borderDash: [6, 4],
      }),
    ]);
    // No label on the line, where it could cover a point: the number is in the legend and the axis title.
    expect(annotationsOf(config)).toEqual([
      expect.objectContaining({ type: 'line', scaleID: 'y', value: 0.19, label: { display: false } }),
    ]);
    expect(scalesOf(config).y?.title?.text).toBe('js_distance (threshold > 0.19)');
  });

  it('marks the violating windows in one legend entry', () => {
    const marks = datasets(driftInput).filter((d) => /violating/.test(d.label));
    expect(marks.map((d) => d.label)).toEqual(['violating window']);
    expect(marks[0]?.showLine).toBe(false);
    expect(marks[0]?.data).toEqual([
      { x: 'Oct 29', y: 0.27 },
      { x: 'Oct 30', y: 0.27 },
      { x: 'Oct 31', y: 0.27 },
      { x: 'Oct 29', y: 0.24 },
      { x: 'Oct 30', y: 0.24 },
      { x: 'Oct 31', y: 0.24 },
    ]);
  });

  it('puts metrics on different scales on two axes, each threshold bound to its own scale and styled apart', () => {
    const config = buildDriftChart(performanceInput);
    expect(Object.keys(config.options?.scales ?? {})).toEqual(['x', 'y', 'y1']);
    expect(thresholdLines(performanceInput).map((d) => [d.label, d.yAxisID, d.borderDash])).toEqual([
      ['threshold: f1_score.macro < 0.5 (left axis)', 'y', [6, 4]],
      ['threshold: |expected_loss| > 30 (right axis)', 'y1', [2, 3]],
    ]);
    expect(annotationsOf(config).map((a) => [a.scaleID, a.value, a.borderDash])).toEqual([
      ['y', 0.5, [6, 4]],
      ['y1', 30, [2, 3]],
    ]);
  });

  const height = (s: Scale, v: number) => (v - s.min!) / (s.max! - s.min!);
  const twoThresholdCases = [
    { name: 'the demo’s F1 and expected loss', f1: [0.4, 0.7], loss: [12, 41], want: 0.1 },
    // 0.5 of [0, 1] and 30 of [0, 60] would be the very same line without explicit bounds.
    { name: 'thresholds halfway up both axes', f1: [0, 1], loss: [0, 60], want: 0.1 },
    { name: 'thresholds at the top of both axes', f1: [0.1, 0.5], loss: [5, 30], want: 0.1 },
  ];
  for (const c of twoThresholdCases) {
    it(`never draws two thresholds on two axes as one line: ${c.name}`, () => {
      const input: DriftChartInput = {
        ...performanceInput,
        series: [
          { ...performanceInput.series[0]!, values: windows.map((_, i) => c.f1[i % 2]!) },
          { ...performanceInput.series[1]!, values: windows.map((_, i) => c.loss[i % 2]!) },
        ],
      };
      const { y, y1 } = scalesOf(buildDriftChart(input));
      expect(Math.abs(height(y!, 0.5) - height(y1!, 30))).toBeGreaterThanOrEqual(c.want);
      // Every value stays inside its axis.
      for (const v of c.f1) expect(height(y!, v)).toSatisfy((h: number) => h >= 0 && h <= 1);
      for (const v of c.loss) expect(height(y1!, v)).toSatisfy((h: number) => h >= 0 && h <= 1);
    });
  }

  it('places right-axis violations on the left axis at the same height, in the one marks dataset', () => {
    const config = buildDriftChart(performanceInput);
    const { y, y1 } = scalesOf(config);
    const marks = datasets(performanceInput).find((d) => d.label === 'violating window')!;
    const loss = (marks.data as Array<{ x: string; y: number }>).slice(3);
    expect(loss.map((p) => p.x)).toEqual(['Oct 29', 'Oct 30', 'Oct 31']);
    for (const p of loss) expect(height(y!, p.y)).toBeCloseTo(height(y1!, 41), 3);
  });

  it('marks the window still in progress: its tick, a hollow ring on each value, a legend entry', () => {
    const input: DriftChartInput = { ...driftInput, inProgress: windows.map((_, i) => i === 9) };
    const config = buildDriftChart(input);
    expect(config.data.labels?.[0]).toBe('Oct 31 (partial)');
    const ring = datasets(input).find((d) => d.label === 'window in progress (values may change)');
    expect(ring).toMatchObject({
      showLine: false,
      data: [
        { x: 'Oct 31 (partial)', y: 0.27 },
        { x: 'Oct 31 (partial)', y: 0.24 },
      ],
    });
    expect(datasets(driftInput).some((d) => /in progress/.test(d.label))).toBe(false);
  });

  it('labels the last point: the newest window comes first, where Chart.js never skips a tick', () => {
    for (const count of [7, 10, 29, 30, 31, 365]) {
      const many = Array.from({ length: count }, (_, i) => start + i * DAY);
      const config = buildDriftChart({
        ...driftInput,
        windows: many,
        series: driftInput.series.map((s) => ({
          ...s,
          values: many.map(() => 0.1),
          violating: many.map(() => false),
        })),
      });
      expect(config.data.labels).toHaveLength(count);
      expect(config.data.labels?.[0]).toBe(windowLabel(many.at(-1)!, '1 day'));
      expect(scalesOf(config).x).toMatchObject({ reverse: true, ticks: { maxTicksLimit: MAX_TICKS } });
    }
  });

  it('draws at most six series and says how many it left out', () => {
    const many: DriftChartInput = {
      ...driftInput,
      series: Array.from({ length: 9 }, (_, i) => ({
        ...driftInput.series[0]!,
        label: `psi(f${i})`,
        violating: windows.map(() => i === 8),
      })),
    };
    const drawn = datasets(many).filter((d) => d.label.startsWith('psi'));
    expect(drawn.map((d) => d.label)).toContain('psi(f8)');
    expect(drawn).toHaveLength(6);
    expect(JSON.stringify(buildDriftChart(many).options?.plugins)).toContain('3 more series not drawn');
  });

  it('is plain JSON: nothing is lost on the way to QuickChart', () => {
    const config = buildDriftChart({ ...performanceInput, inProgress: windows.map((_, i) => i === 9) });
    expect(JSON.parse(JSON.stringify(config))).toEqual(config);
  });

  it('labels sub-day windows with their time and describes the chart for screen readers', () => {
    expect(windowLabel(Date.parse('2026-11-14T13:00:00Z'), '1 hour')).toBe('Nov 14 13:00');
    expect(chartAltText(driftInput)).toBe(
      'Line chart "churn · drift · model id *": js_distance(churn), js_distance(prediction) over 10 windows, thresholds js_distance(churn) > 0.19; js_distance(prediction) > 0.19; 3 violating windows.',
    );
  });
});

describe('QuickChart URL', () => {
  it('decodes back to the chart configuration, asking for Chart.js 4 at the stated size', () => {
    const config = buildDriftChart(driftInput);
    const url = quickChartFor(config).getUrl();
    expect(url.startsWith('https://quickchart.io/chart?')).toBe(true);
    expect(decodeQuickChartUrl(url)).toEqual({ config, width: 800, height: 400, version: '4' });
  });

  it('points at a self-hosted QuickChart when configured', () => {
    const url = quickChartFor(buildDriftChart(driftInput), {
      host: 'https://charts.acme.test:8443',
    }).getUrl();
    expect(url.startsWith('https://charts.acme.test:8443/chart?')).toBe(true);
  });

  it('outgrows Slack’s image_url limit with a month of two series', () => {
    const month = Array.from({ length: 30 }, (_, i) => start + i * DAY);
    const input: DriftChartInput = {
      ...performanceInput,
      windows: month,
      series: performanceInput.series.map((s) => ({
        ...s,
        values: month.map((_, i) => 0.3 + (i % 7) / 13),
        violating: month.map((_, i) => i > 22),
      })),
    };
    expect(quickChartFor(buildDriftChart(input)).getUrl().length).toBeGreaterThan(SLACK_IMAGE_URL_MAX);
  });
});

describe('local renderer', () => {
  /** Width and height from a PNG's IHDR chunk. */
  const pngSize = (png: Buffer) => ({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) });

  it('renders a PNG of the stated size', async () => {
    const rendered = await createLocalRenderer().render(buildDriftChart(performanceInput));
    expect(rendered.kind).toBe('png');
    if (rendered.kind !== 'png') return;
    expect(rendered.png.subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
    expect(pngSize(rendered.png)).toEqual({ width: 800, height: 400 });
    expect({ width: rendered.width, height: rendered.height }).toEqual({ width: 800, height: 400 });
  });

  it('draws a chart with a gap, two axes, violations and a window in progress without throwing', () => {
    const input: DriftChartInput = {
      ...performanceInput,
      series: performanceInput.series.map((s, k) => ({
        ...s,
        values: s.values.map((v, i) => (i === 4 + k ? null : v)),
      })),
      inProgress: windows.map((_, i) => i === 9),
    };
    const png = renderChartPng(buildDriftChart(input));
    expect(pngSize(png)).toEqual({ width: 800, height: 400 });
    expect(png.length).toBeGreaterThan(10_000);
  });

  it('keeps the last point’s tick when Chart.js skips ticks, and draws the axes with the bounds of the spec', () => {
    for (const count of [30, 45, 365]) {
      const many = Array.from({ length: count }, (_, i) => start + i * DAY);
      const input: DriftChartInput = {
        ...performanceInput,
        windows: many,
        series: performanceInput.series.map((s) => ({
          ...s,
          values: many.map((_, i) => s.values[i % 10]!),
          violating: many.map((_, i) => i > count - 4),
        })),
        inProgress: many.map((_, i) => i === count - 1),
      };
      const config = buildDriftChart(input);
      const drawn = drawnAxes(config);
      expect(drawn.xTicks.length).toBeLessThan(count);
      expect(drawn.xTicks.at(-1)).toBe(`${windowLabel(many.at(-1)!, '1 day')} (partial)`);
      const { y, y1 } = scalesOf(config);
      expect(drawn.y).toEqual({ y: { min: y!.min, max: y!.max }, y1: { min: y1!.min, max: y1!.max } });
    }
  });

  it('renders at another size when asked, without changing the configuration it was given', () => {
    const config = buildDriftChart(driftInput);
    const copy = structuredClone(config);
    expect(pngSize(renderChartPng(config, { width: 640, height: 320 }))).toEqual({ width: 640, height: 320 });
    expect(config).toEqual(copy);
  });
});
