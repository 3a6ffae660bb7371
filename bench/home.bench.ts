/**
 * App Home refreshes: a burst of changes (BENCH_HOME_CHANGES, default 500, spread over 250 ms)
 * with BENCH_HOME_USERS (default 50) Homes open. The real Home service and store (SQLite) publish
 * through the real Web API client into the Slack twin; the Databricks list call is a counted stand-in
 * of the Serving port. Figures: publishes per user for the burst, list calls for the refresh, and
 * how long after the last change every Home was fresh.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webApi } from '@slack/bolt';
import { createHomeService } from '../src/home/service.js';
import { createHomeStore } from '../src/home/store.js';
import { systemClock } from '../src/lib/clock.js';
import { createDefaultSlackSeed, startSlackTwin } from '../src/sandbox/slack/index.js';
import { buildHomeView } from '../src/slack/blocks/home.js';
import { openDatabase } from '../src/storage/database.js';
import type { BenchRow } from './run.js';

const USERS = Number(process.env.BENCH_HOME_USERS ?? 50);
const CHANGES = Number(process.env.BENCH_HOME_CHANGES ?? 500);

export default async function homeBench(): Promise<BenchRow[]> {
  const users = Array.from({ length: USERS }, (_, i) => ({
    id: `U0BENCH${String(i).padStart(4, '0')}`,
    name: `bench${i}`,
    realName: `Bench ${i}`,
  }));
  const twin = await startSlackTwin({
    seed: { ...createDefaultSlackSeed(), users },
  });
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-home-'));
  const db = openDatabase(join(dir, 'bench.db'));
  const client = new webApi.WebClient(twin.botToken, {
    slackApiUrl: twin.apiUrl,
    retryConfig: { retries: 0 },
  });
  let listCalls = 0;
  const home = createHomeService({
    store: createHomeStore(db),
    pending: () => [],
    mayVote: async () => false,
    changesInFlight: () => [],
    listEndpoints: async () => {
      listCalls++;
      return [
        {
          name: 'churn-endpoint',
          ready: true,
          updating: false,
          updateState: 'NOT_UPDATING',
          servedVersions: [{ name: 's2', modelName: 'acme.mlops.churn_model', modelVersion: '2' }],
        },
      ];
    },
    publish: async (data) => {
      await client.views.publish({ user_id: data.userId, view: buildHomeView(data) as never });
    },
    clock: systemClock,
    debounceMs: 1500,
  });
  try {
    for (const u of users) await home.opened(u.id);
    const openings = twin.calls('views.publish').length;
    const listsBefore = listCalls;
    for (let i = 0; i < CHANGES; i++) {
      home.changed();
      if (i % Math.max(1, Math.floor(CHANGES / 25)) === 0) await new Promise((r) => setTimeout(r, 10));
    }
    const lastChange = performance.now();
    await twin.waitFor(() => twin.calls('views.publish').length >= openings + USERS || undefined, 60_000);
    const fresh = performance.now() - lastChange;
    await new Promise((r) => setTimeout(r, 2000)); // nothing more comes
    const publishes = twin.calls('views.publish').length - openings;
    return [
      {
        name: `Home publishes per user for ${CHANGES} changes (${USERS} Homes)`,
        value: (publishes / USERS).toFixed(2),
        target: '1',
      },
      {
        name: 'Databricks list calls for that refresh',
        value: String(listCalls - listsBefore),
        target: '≤ 1',
      },
      {
        name: 'last change → every Home fresh',
        value: `${Math.round(fresh)} ms`,
        target: '≈ debounce (1.5 s) + publishes',
      },
    ];
  } finally {
    home.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
    await twin.stop();
  }
}
