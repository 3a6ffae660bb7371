/**
 * Model Serving figures: (a) how many reads waiting out a 10-minute rollout costs, on a simulated
 * clock; (b) what one `serving.get` costs on real time against the twin, split into the client's
 * own overhead (auth, JSON, zod, mapping), the HTTP round trip, and the twin's handler.
 */
import { performance } from 'node:perf_hooks';
import { staticTokenProvider } from '../src/databricks/auth.js';
import { createDatabricksHttp } from '../src/databricks/http.js';
import { createServingClient } from '../src/databricks/serving.js';
import { waitForRollout } from '../src/domain/rollout.js';
import { simulatedClock, systemClock } from '../src/lib/clock.js';
import { fastFetch } from '../src/lib/http-client.js';
import { Router } from '../src/sandbox/workspace/router.js';
import { startWorkspaceTwin, type TwinContext } from '../src/sandbox/workspace/server.js';
import { registerServingRoutes } from '../src/sandbox/workspace/serving-routes.js';
import { emptyState, registeredModel, type WorkspaceState } from '../src/sandbox/workspace/state.js';
import { percentile } from './stats.js';

const MODEL = 'main.ml.churn_model';
const TEN_MINUTES = 10 * 60_000;

function stateWithModel(): WorkspaceState {
  const state = emptyState();
  state.models.set(MODEL, registeredModel(MODEL, [{ version: 1 }, { version: 2 }]));
  return state;
}

const single = (v: number) => ({ servedVersions: [{ modelName: MODEL, modelVersion: v }] });

const ms = (x: number) => `${x.toFixed(3)} ms`;

async function rolloutReads() {
  const clock = simulatedClock(Date.parse('2026-03-02T09:00:00Z'));
  const twin = await startWorkspaceTwin({ state: stateWithModel(), clock, rolloutDelayMs: TEN_MINUTES });
  try {
    const serving = createServingClient(
      createDatabricksHttp({ host: twin.url, tokens: staticTokenProvider(twin.token), clock }),
    );
    await serving.create({ name: 'bench', config: single(1) });
    const from = twin.requests.length;
    const started = clock.now();
    const result = await waitForRollout(serving, 'bench', { clock });
    const reads = twin.requests.slice(from).filter((r) => r.method === 'GET').length;
    return { reads, outcome: result.outcome, lagMs: clock.now() - started - TEN_MINUTES };
  } finally {
    await twin.stop();
  }
}

async function getLatency(n = 1_000, warmup = 100) {
  const twin = await startWorkspaceTwin({ state: stateWithModel(), rolloutDelayMs: 0 });
  try {
    const serving = createServingClient(
      createDatabricksHttp({ host: twin.url, tokens: staticTokenProvider(twin.token) }),
    );
    await serving.create({ name: 'bench', config: single(1) });
    const url = `${twin.url}/api/2.0/serving-endpoints/bench`;
    const headers = { authorization: `Bearer ${twin.token}`, accept: 'application/json' };

    const client: number[] = [];
    const rawFetch: number[] = [];
    /** Per pair of interleaved calls: the client's time minus the bare call's. */
    const overhead: number[] = [];
    for (let i = 0; i < n + warmup; i++) {
      // Interleave so both see the same machine state.
      let t = performance.now();
      await serving.get('bench');
      const c = performance.now() - t;
      t = performance.now();
      // The same transport the client uses, so the difference is the client's own work.
      const res = await fastFetch(url, { headers });
      JSON.parse(await res.text());
      const r = performance.now() - t;
      if (i >= warmup) {
        client.push(c);
        rawFetch.push(r);
        overhead.push(c - r);
      }
    }

    // The twin's handler alone, in process: no socket, no HTTP parsing.
    const router = new Router();
    const ctx: TwinContext = {
      state: twin.state,
      clock: systemClock,
      rolloutDelayMs: 0,
      jobQueueMs: 0,
      jobRunMs: 0,
      listPageSize: 2,
      baseUrl: () => twin.url,
    };
    registerServingRoutes(router, ctx);
    const match = router.match('GET', '/api/2.0/serving-endpoints/bench')!;
    const handler: number[] = [];
    for (let i = 0; i < n + warmup; i++) {
      const t = performance.now();
      const out = await match.route.handler({
        method: 'GET',
        params: match.params,
        query: new URLSearchParams(),
        body: undefined,
        headers: {},
        route: 'GET /api/2.0/serving-endpoints/:name',
      });
      JSON.stringify(out.body);
      if (i >= warmup) handler.push(performance.now() - t);
    }
    for (const a of [client, rawFetch, handler, overhead]) a.sort((x, y) => x - y);
    return { client, rawFetch, handler, overhead };
  } finally {
    await twin.stop();
  }
}

export default async function bench(): Promise<Array<{ name: string; value: string; target?: string }>> {
  const rollout = await rolloutReads();
  const { client, rawFetch, handler, overhead } = await getLatency();
  const p = (a: number[], q: number) => percentile(a, q);
  return [
    { name: 'reads while waiting out a 10-min rollout', value: String(rollout.reads), target: '≤ 40' },
    {
      name: 'rollout end noticed after (simulated)',
      value: `${(rollout.lagMs / 1000).toFixed(1)} s`,
      target: '≤ 30 s',
    },
    { name: 'serving.get p50 (twin, loopback)', value: ms(p(client, 50)) },
    { name: 'serving.get p99 (twin, loopback)', value: ms(p(client, 99)) },
    { name: 'bare fetch+JSON.parse p50 (same GET, same transport)', value: ms(p(rawFetch, 50)) },
    { name: 'bare fetch+JSON.parse p99 (same GET, same transport)', value: ms(p(rawFetch, 99)) },
    { name: 'client overhead p50 (get − bare fetch, paired)', value: ms(p(overhead, 50)) },
    { name: 'client overhead p90 (get − bare fetch, paired)', value: ms(p(overhead, 90)) },
    // A pause on either side of a pair (GC, a descheduled process) lands here.
    { name: 'client overhead p99 (get − bare fetch, paired)', value: ms(p(overhead, 99)) },
    { name: 'twin handler p50 (in process)', value: ms(p(handler, 50)) },
    { name: 'twin handler p99 (in process)', value: ms(p(handler, 99)) },
  ];
}
