/**
 * The chart renderers of a policy, by kind: built on first use by the drift watch (one per kind),
 * so wiring chooses the adapters and drift/ only sees the ChartRenderer port.
 */
import { createQuickChartRenderer } from './quickchart.js';
import { createLocalRenderer } from './render.js';
import type { ChartRenderer } from './renderer.js';

/**
 * @example const renderer = chartRenderers({ quickchartHost: policy.charts?.quickchartHost }); renderer('local').kind // 'png'
 */
export function chartRenderers(options: {
  /** A self-hosted QuickChart. */
  quickchartHost?: string | undefined;
  /** QuickChart POSTs go through this fetch. */
  fetch?: typeof fetch | undefined;
}): (kind: 'quickchart' | 'local') => ChartRenderer {
  return (kind) =>
    kind === 'local'
      ? createLocalRenderer()
      : createQuickChartRenderer({
          ...(options.quickchartHost ? { host: options.quickchartHost } : {}),
          ...(options.fetch ? { fetch: options.fetch } : {}),
        });
}
