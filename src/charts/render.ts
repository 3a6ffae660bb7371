/**
 * Charts drawn in this process: Chart.js 4 with chartjs-plugin-annotation 3 on @napi-rs/canvas (Skia,
 * shipped as a prebuilt binary inside its npm package, no system libraries), PNG bytes out. For teams
 * that must not send metrics to an outside service, and for the offline sandbox.
 *
 * Text needs a font: a DejaVu Sans found under /usr/share/fonts is registered (Debian's fonts-dejavu,
 * present on the project's machines), else any system font Skia finds. `fontPath` names another TTF.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ChartConfiguration, Plugin } from 'chart.js';
import { CHART_SIZE, type ChartRenderer } from './renderer.js';
import type { DriftChartConfig } from './spec.js';

interface Drawing {
  canvas: typeof import('@napi-rs/canvas');
  chartjs: typeof import('chart.js');
}

let drawing: Drawing | undefined;

/**
 * The canvas (Skia, about 20 MB resident) and Chart.js, loaded on the first chart drawn: a bot whose
 * charts go to QuickChart never pays for them. `require`, not `import()`, because drawing is
 * synchronous; all three packages ship CommonJS builds, and this file is the only one that loads
 * chart.js at run time (spec.ts imports its types only), so plugin and chart share one Chart.js.
 */
function loadDrawing(): Drawing {
  if (!drawing) {
    const require = createRequire(import.meta.url);
    const chartjs = require('chart.js') as Drawing['chartjs'];
    // Its CommonJS build exports the plugin itself; the type also brings in its `annotation` options.
    const annotation =
      require('chartjs-plugin-annotation') as typeof import('chartjs-plugin-annotation')['default'];
    chartjs.Chart.register(...chartjs.registerables, annotation);
    drawing = { canvas: require('@napi-rs/canvas') as Drawing['canvas'], chartjs };
  }
  return drawing;
}

const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
];

let fontFamily: string | undefined;

function setUp(fontPath: string | undefined): Drawing {
  const d = loadDrawing();
  const { GlobalFonts } = d.canvas;
  const { Chart } = d.chartjs;
  if (fontFamily === undefined) {
    const path = fontPath ?? FONT_CANDIDATES.find((p) => existsSync(p));
    const family = 'modelgate-chart-sans';
    fontFamily = path && GlobalFonts.registerFromPath(path, family) ? family : 'sans-serif';
    Chart.defaults.font.family = fontFamily;
  }
  return d;
}

/** Paints the background: a canvas is transparent otherwise, which Slack shows on dark themes as black. */
const whiteBackground: Plugin<'line'> = {
  id: 'modelgate-background',
  beforeDraw(chart) {
    const { ctx } = chart;
    ctx.save();
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};

export interface LocalRendererOptions {
  width?: number;
  height?: number;
  /** A TTF to draw text with. */
  fontPath?: string;
}

/**
 * Renders a chart config to PNG bytes, synchronously (about 0.1–0.2 s for a drift chart).
 *
 * @example const png = renderChartPng(buildDriftChart(input)); // Buffer starting with \x89PNG
 */
export function renderChartPng(config: DriftChartConfig, options: LocalRendererOptions = {}): Buffer {
  return drawChart(config, options, (canvas) => canvas.toBuffer('image/png'));
}

/** What Chart.js laid out: the x tick labels it drew (after skipping some) and each y axis's range. */
export interface DrawnAxes {
  xTicks: string[];
  y: Record<string, { min: number; max: number }>;
}

/**
 * Lays a chart out as the local renderer draws it and reports its axes: how tests check what
 * Chart.js itself does with the spec (which ticks it keeps, where the axes end).
 *
 * @example drawnAxes(buildDriftChart(input)).xTicks.at(-1) // 'Nov 20 (partial)'
 */
export function drawnAxes(config: DriftChartConfig, options: LocalRendererOptions = {}): DrawnAxes {
  return drawChart(config, options, (_canvas, chart) => {
    const scales = Object.values(chart.scales);
    const x = scales.find((s) => s.axis === 'x');
    const xTicks = (x?.ticks ?? []).map((t) => String(x?.getLabelForValue(t.value) ?? ''));
    const y = Object.fromEntries(
      scales.filter((s) => s.axis === 'y').map((s) => [s.id, { min: s.min, max: s.max }]),
    );
    // Left to right as drawn: a reversed axis lists its ticks from the right.
    return { xTicks: x?.options.reverse ? xTicks.reverse() : xTicks, y };
  });
}

function drawChart<T>(
  config: DriftChartConfig,
  options: LocalRendererOptions,
  read: (canvas: import('@napi-rs/canvas').Canvas, chart: import('chart.js').Chart) => T,
): T {
  const { canvas: skia, chartjs } = setUp(options.fontPath);
  const { Chart } = chartjs;
  const width = options.width ?? CHART_SIZE.width;
  const height = options.height ?? CHART_SIZE.height;
  const canvas = skia.createCanvas(width, height);
  // Chart.js draws on any 2D context; in Node it uses its DOM-less BasicPlatform.
  const context = canvas.getContext('2d') as unknown as ConstructorParameters<typeof chartjs.Chart>[0];
  const copy = structuredClone(config) as ChartConfiguration<'line', Array<number | null>, string>;
  // In-process drawing: no animation frames, and the canvas size as given (no DOM to resize against).
  const chart = new Chart(context, {
    ...copy,
    options: { ...copy.options, animation: false, responsive: false },
    plugins: [whiteBackground],
  });
  try {
    return read(canvas, chart as unknown as import('chart.js').Chart);
  } finally {
    chart.destroy();
  }
}

/**
 * The local renderer.
 *
 * @example const chart = await createLocalRenderer().render(config); // { kind: 'png', png, width: 800, height: 400 }
 */
export function createLocalRenderer(options: LocalRendererOptions = {}): ChartRenderer {
  const width = options.width ?? CHART_SIZE.width;
  const height = options.height ?? CHART_SIZE.height;
  return {
    kind: 'local',
    async render(config) {
      return { kind: 'png', png: renderChartPng(config, options), width, height };
    },
  };
}
