/**
 * Charts drawn in this process: Chart.js 4 with chartjs-plugin-annotation 3 on @napi-rs/canvas (Skia,
 * shipped as a prebuilt binary inside its npm package, no system libraries), PNG bytes out. For teams
 * that must not send metrics to an outside service, and for the offline sandbox.
 *
 * Text needs a font: a DejaVu Sans found under /usr/share/fonts is registered (Debian's fonts-dejavu,
 * present on the project's machines), else any system font Skia finds. `fontPath` names another TTF.
 */
import { existsSync } from 'node:fs';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import { Chart, type ChartConfiguration, type Plugin, registerables } from 'chart.js';
import annotationPlugin from 'chartjs-plugin-annotation';
import { CHART_SIZE, type ChartRenderer } from './renderer.js';
import type { DriftChartConfig } from './spec.js';

const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
];

let registered = false;
let fontFamily: string | undefined;

function setUp(fontPath: string | undefined): void {
  if (!registered) {
    Chart.register(...registerables, annotationPlugin);
    registered = true;
  }
  if (fontFamily === undefined) {
    const path = fontPath ?? FONT_CANDIDATES.find((p) => existsSync(p));
    const family = 'modelgate-chart-sans';
    fontFamily = path && GlobalFonts.registerFromPath(path, family) ? family : 'sans-serif';
    Chart.defaults.font.family = fontFamily;
  }
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
  setUp(options.fontPath);
  const width = options.width ?? CHART_SIZE.width;
  const height = options.height ?? CHART_SIZE.height;
  const canvas = createCanvas(width, height);
  // Chart.js draws on any 2D context; in Node it uses its DOM-less BasicPlatform.
  const context = canvas.getContext('2d') as unknown as ConstructorParameters<typeof Chart>[0];
  const copy = structuredClone(config) as ChartConfiguration<'line', Array<number | null>, string>;
  // In-process drawing: no animation frames, and the canvas size as given (no DOM to resize against).
  const chart = new Chart(context, {
    ...copy,
    options: { ...copy.options, animation: false, responsive: false },
    plugins: [whiteBackground],
  });
  try {
    return canvas.toBuffer('image/png');
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
