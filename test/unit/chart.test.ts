import { describe, expect, it } from 'vitest';
import { decodeQuickChartUrl, quickChartFor, SLACK_IMAGE_URL_MAX } from '../../src/charts/quickchart.js';
import { createLocalRenderer, renderChartPng } from '../../src/charts/render.js';
import { buildDriftChart, chartAltText, type DriftChartInput, windowLabel } from '../../src/charts/spec.js';

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
  borderDash?: number[];
};
const datasets = (input: DriftChartInput) => buildDriftChart(input).data.datasets as unknown as Dataset[];

describe('buildDriftChart', () => {
  it('holds every metric value per window, with dates as labels', () => {
    const config = buildDriftChart(driftInput);
    expect(config.type).toBe('line');
    expect(config.data.labels).toEqual([
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
    expect(churn).toMatchObject({ label: 'js_distance(churn)', data: driftInput.series[0]!.values });
    expect(prediction?.data[3]).toBeNull();
  });

  it('draws the threshold as a labelled dashed line across the chart, once per shared threshold', () => {
    const config = buildDriftChart(driftInput);
    const lines = datasets(driftInput).filter((d) => d.label.startsWith('threshold'));
    expect(lines).toEqual([
      expect.objectContaining({
        label: 'threshold: js_distance > 0.19',
        data: [
          { x: 'Oct 22', y: 0.19 },
          { x: 'Oct 31', y: 0.19 },
        ],
        borderDash: [6, 4],
      }),
    ]);
    const plugins = config.options?.plugins as { annotation: { annotations: Record<string, unknown> } };
    const annotations = plugins.annotation.annotations;
    expect(Object.values(annotations)).toEqual([
      expect.objectContaining({
        type: 'line',
        scaleID: 'y',
        value: 0.19,
        label: expect.objectContaining({ content: '0.19' }),
      }),
    ]);
  });

  it('marks the violating windows', () => {
    const marks = datasets(driftInput).find((d) => d.label === 'violating window');
    expect(marks?.showLine).toBe(false);
    expect(marks?.data).toEqual([
      { x: 'Oct 29', y: 0.27 },
      { x: 'Oct 30', y: 0.27 },
      { x: 'Oct 31', y: 0.27 },
      { x: 'Oct 29', y: 0.24 },
      { x: 'Oct 30', y: 0.24 },
      { x: 'Oct 31', y: 0.24 },
    ]);
  });

  it('puts metrics on different scales on two axes, each with its own threshold line', () => {
    const config = buildDriftChart(performanceInput);
    expect(Object.keys(config.options?.scales ?? {})).toEqual(['x', 'y', 'y1']);
    const lines = datasets(performanceInput).filter((d) => d.label.startsWith('threshold'));
    expect(lines.map((d) => [d.label, d.yAxisID])).toEqual([
      ['threshold: f1_score.macro < 0.5', 'y'],
      ['threshold: |expected_loss| > 30', 'y1'],
    ]);
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
    const config = buildDriftChart(performanceInput);
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

  it('renders at another size when asked, without changing the configuration it was given', () => {
    const config = buildDriftChart(driftInput);
    const copy = structuredClone(config);
    expect(pngSize(renderChartPng(config, { width: 640, height: 320 }))).toEqual({ width: 640, height: 320 });
    expect(config).toEqual(copy);
  });
});
