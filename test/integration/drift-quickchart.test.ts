import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQuickChartRenderer } from '../../src/charts/quickchart.js';
import { renderChartPng } from '../../src/charts/render.js';
import { buildDriftChart, type DriftChartConfig } from '../../src/charts/spec.js';
import { UserError } from '../../src/domain/errors.js';
import { describeError } from '../../src/slack/blocks/errors.js';

/**
 * A self-hosted QuickChart on loopback: POST /chart draws the posted config (with the bot's own local
 * renderer), POST /chart/create answers a short link (hosted quickchart.io only has it), and a config
 * it cannot read gets 400 with QuickChart's error header.
 */
let server: Server;
let base: string;
const received: Array<{ path: string; body: Record<string, unknown> }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as Record<string, unknown>;
      received.push({ path: req.url ?? '', body });
      const config = JSON.parse(String(body.chart ?? 'null')) as DriftChartConfig | null;
      if (req.method === 'POST' && config?.type !== 'line') {
        res.writeHead(400, { 'x-quickchart-error': 'Invalid chart config' }).end();
      } else if (req.method === 'POST' && req.url === '/chart/create') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ success: true, url: `${base}/chart/render/zf-${received.length}` }));
      } else if (req.method === 'POST' && req.url === '/chart') {
        const png = renderChartPng(config!, { width: Number(body.width), height: Number(body.height) });
        res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const DAY = 86_400_000;
function chartOf(windows: number): DriftChartConfig {
  const starts = Array.from({ length: windows }, (_, i) => Date.parse('2026-10-01T00:00:00Z') + i * DAY);
  const violating = starts.map((_, i) => i > windows - 5);
  return buildDriftChart({
    title: 'churn · performance · model id *',
    windows: starts,
    granularity: '1 day',
    series: [
      {
        label: 'f1_score.macro',
        values: starts.map((_, i) => 0.4 + (i % 9) / 31),
        threshold: 0.5,
        direction: 'below',
        violating,
      },
      {
        label: '|expected_loss|',
        values: starts.map((_, i) => 20 + (i % 5) * 4.37),
        threshold: 30,
        direction: 'above',
        violating,
      },
    ],
  });
}

describe('QuickChart renderer', () => {
  it('links a configuration that fits the URL limit directly, without calling the server', async () => {
    const before = received.length;
    const renderer = createQuickChartRenderer({ host: base, shortUrls: true, maxUrlLength: 8_000 });
    const rendered = await renderer.render(chartOf(3));
    expect(rendered).toMatchObject({ kind: 'url', short: false });
    expect(received.length).toBe(before);
  });

  it('switches to a short URL when the configuration is too long for Slack', async () => {
    const config = chartOf(30);
    const rendered = await createQuickChartRenderer({ host: base, shortUrls: true }).render(config);
    expect(rendered).toEqual({
      kind: 'url',
      short: true,
      url: expect.stringMatching(/\/chart\/render\/zf-\d+$/),
    });
    const request = received.at(-1)!;
    expect(request.path).toBe('/chart/create');
    expect(JSON.parse(String(request.body.chart))).toEqual(config);
    expect(request.body).toMatchObject({ version: '4', width: 800, height: 400 });
  });

  it('asks hosted quickchart.io for short URLs by default, through the fetch it is given', async () => {
    const calls: string[] = [];
    const fakeFetch = (async (url: URL | string) => {
      calls.push(String(url));
      return new Response(JSON.stringify({ success: true, url: 'https://quickchart.io/chart/render/zf-1' }));
    }) as typeof fetch;
    const rendered = await createQuickChartRenderer({ fetch: fakeFetch }).render(chartOf(30));
    expect(rendered).toMatchObject({ kind: 'url', short: true });
    expect(calls).toEqual(['https://quickchart.io/chart/create']);
  });

  it('fetches the PNG from a self-hosted server when the URL is too long, to upload it instead', async () => {
    const rendered = await createQuickChartRenderer({ host: base }).render(chartOf(30));
    expect(rendered.kind).toBe('png');
    if (rendered.kind !== 'png') return;
    expect(rendered.png.readUInt32BE(16)).toBe(800);
    expect(received.at(-1)?.path).toBe('/chart');
  });

  it('turns a refusal into a chart_unavailable error that says what to do', async () => {
    const broken = { ...chartOf(30), type: 'bar' } as unknown as DriftChartConfig;
    const error = await createQuickChartRenderer({ host: base })
      .render(broken)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error).toMatchObject({ code: 'chart_unavailable' });
    expect(describeError(error as UserError).text).toEqual(
      expect.stringContaining('HTTP 400: Invalid chart config'),
    );
    expect(describeError(error as UserError).hint).toMatch(/renderer: local/);
  });
});
