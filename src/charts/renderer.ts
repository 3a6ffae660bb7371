/**
 * What the drift watch needs from a chart renderer: a Chart.js configuration in, either a URL Slack can
 * show in an image block or PNG bytes to upload. Two implementations: quickchart.ts (default) and
 * render.ts (local, offline).
 */
import type { DriftChartConfig } from './spec.js';

export type RenderedChart =
  /** Shown inside the alert (`image` block); `short` when it is a QuickChart short link. */
  | { kind: 'url'; url: string; short: boolean }
  /** Uploaded into the alert's thread (files.uploadV2). */
  | { kind: 'png'; png: Buffer; width: number; height: number };

export interface ChartRenderer {
  readonly kind: 'quickchart' | 'local';
  render(config: DriftChartConfig, options?: { signal?: AbortSignal }): Promise<RenderedChart>;
}

/** The size every drift chart is drawn at (CSS pixels). */
export const CHART_SIZE = { width: 800, height: 400 } as const;
