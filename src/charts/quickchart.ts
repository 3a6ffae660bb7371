/**
 * Charts as QuickChart images, with quickchart-js building the URL and the POST body.
 *
 * - The URL (GET /chart?c=…&v=4) goes into the alert's image block, so Slack fetches the image from
 *   QuickChart: the chart's data travels there (see the README: use the local renderer to avoid that).
 * - Slack refuses an `image_url` over 3000 characters. Past that, hosted quickchart.io gets a short URL
 *   (POST /chart/create; such links expire after 3 days on the free plan). A self-hosted server has no
 *   short URLs: the bot POSTs /chart there and uploads the PNG instead.
 * - The POSTs are the bot's own `fetch` calls with a timeout (quickchart-js's own have none, and
 *   `getShortUrl()` cannot be pointed at any host but quickchart.io).
 */
import { createRequire } from 'node:module';
import type quickChartModule from 'quickchart-js';
import { UserError } from '../domain/errors.js';
import { CHART_SIZE, type ChartRenderer, type RenderedChart } from './renderer.js';
import type { DriftChartConfig } from './spec.js';

// quickchart-js ships CommonJS-style typings: under NodeNext its default import is typed as the module,
// while at run time (its CommonJS build's module.exports) it is the class itself.
type QuickChartClass = (typeof quickChartModule)['default'];
type QuickChart = InstanceType<QuickChartClass>;

let quickChartClass: QuickChartClass | undefined;

/**
 * quickchart-js, loaded on the first chart: it pulls in cross-fetch, node-fetch and whatwg-url at load
 * (a few MB resident) although we only use its URL and body builders. `require`, since building a URL
 * is synchronous.
 */
function loadQuickChart(): QuickChartClass {
  quickChartClass ??= createRequire(import.meta.url)('quickchart-js') as QuickChartClass;
  return quickChartClass;
}

export const DEFAULT_QUICKCHART_HOST = 'https://quickchart.io';
/** Slack's limit for `image_url`. */
export const SLACK_IMAGE_URL_MAX = 3000;

export interface QuickChartRendererOptions {
  /** Scheme and host (and port) of the QuickChart server; default https://quickchart.io. */
  host?: string;
  width?: number;
  height?: number;
  /** Whether the server makes short URLs; default: only hosted quickchart.io does. */
  shortUrls?: boolean;
  maxUrlLength?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** A QuickChart client for one config: quickchart-js with our host, size and Chart.js version. */
export function quickChartFor(
  config: DriftChartConfig,
  options: Pick<QuickChartRendererOptions, 'host' | 'width' | 'height'> = {},
): QuickChart {
  const base = new URL(options.host ?? DEFAULT_QUICKCHART_HOST);
  const QuickChart = loadQuickChart();
  return new QuickChart()
    .setConfig(JSON.stringify(config))
    .setWidth(options.width ?? CHART_SIZE.width)
    .setHeight(options.height ?? CHART_SIZE.height)
    .setBackgroundColor('#ffffff')
    .setVersion('4')
    .setScheme(base.protocol.replace(/:$/, ''))
    .setHost(base.host);
}

/**
 * Reads the chart config back out of a QuickChart URL (what Slack will ask QuickChart to draw).
 *
 * @example decodeQuickChartUrl(url).config.type // 'line'
 */
export function decodeQuickChartUrl(url: string): {
  config: unknown;
  width: number;
  height: number;
  version: string;
} {
  const u = new URL(url);
  return {
    config: JSON.parse(u.searchParams.get('c') ?? 'null'),
    width: Number(u.searchParams.get('w')),
    height: Number(u.searchParams.get('h')),
    version: u.searchParams.get('v') ?? '',
  };
}

/**
 * The QuickChart renderer.
 *
 * @example const chart = await createQuickChartRenderer().render(buildDriftChart(input)); // { kind: 'url', url: 'https://quickchart.io/chart?c=…' }
 */
export function createQuickChartRenderer(options: QuickChartRendererOptions = {}): ChartRenderer {
  const host = options.host ?? DEFAULT_QUICKCHART_HOST;
  const hosted = new URL(host).hostname === 'quickchart.io';
  const shortUrls = options.shortUrls ?? hosted;
  const maxUrlLength = options.maxUrlLength ?? SLACK_IMAGE_URL_MAX;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const doFetch = options.fetch ?? fetch;

  async function post(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await doFetch(new URL(path, host), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (e) {
      throw new UserError('chart_unavailable', {
        variant: 'unreachable',
        host,
        causeMessage: (e as Error).message,
      });
    }
    if (!res.ok) {
      const detail = res.headers.get('x-quickchart-error');
      throw new UserError('chart_unavailable', {
        variant: 'http',
        host,
        status: res.status,
        ...(detail ? { serviceMessage: detail } : {}),
      });
    }
    return res;
  }

  return {
    kind: 'quickchart',
    async render(config, opts = {}): Promise<RenderedChart> {
      const qc = quickChartFor(config, { host, ...options });
      const url = qc.getUrl();
      if (url.length <= maxUrlLength) return { kind: 'url', url, short: false };
      if (shortUrls) {
        const res = await post('/chart/create', qc.getPostData(), opts.signal);
        const json = (await res.json().catch(() => null)) as { success?: boolean; url?: string } | null;
        if (!json?.success || typeof json.url !== 'string') {
          throw new UserError('chart_unavailable', { variant: 'no_short_url' });
        }
        return { kind: 'url', url: json.url, short: true };
      }
      const res = await post('/chart', qc.getPostData(), opts.signal);
      const png = Buffer.from(await res.arrayBuffer());
      return {
        kind: 'png',
        png,
        width: options.width ?? CHART_SIZE.width,
        height: options.height ?? CHART_SIZE.height,
      };
    },
  };
}
