import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticTokenProvider } from '../../src/databricks/auth.js';
import { createDatabricksHttp } from '../../src/databricks/http.js';
import { createServingClient } from '../../src/databricks/serving.js';
import { UserError } from '../../src/domain/errors.js';
import type { Endpoint, Serving } from '../../src/domain/ports/serving.js';
import { type RolloutResult, waitForRollout } from '../../src/domain/rollout.js';
import { simulatedClock } from '../../src/lib/clock.js';
import { startWorkspaceTwin, type WorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import { failNextRollout } from '../../src/sandbox/workspace/serving-routes.js';
import {
  emptyState,
  type ModelVersion,
  type RegisteredModel,
  registeredModel,
} from '../../src/sandbox/workspace/state.js';
import { describeError } from '../../src/slack/blocks/errors.js';

const MODEL = 'main.ml.churn_model';
const TEN_MINUTES = 10 * 60_000;

const churnModel = (versions: Array<Partial<ModelVersion> & { version: number }>): RegisteredModel =>
  registeredModel(MODEL, versions);

const single = (version: number) => ({ servedVersions: [{ modelName: MODEL, modelVersion: version }] });

/** What a person watching the rollout would notice. */
const seen = (ep: Endpoint) =>
  [
    ep.updateState,
    `live v${ep.current?.configVersion ?? '-'}`,
    `pending v${ep.pending?.configVersion ?? '-'}`,
    ...(ep.pending?.servedVersions ?? []).map((v) => `${v.name} ${v.state}`),
  ].join(', ');

let twin: WorkspaceTwin;
let serving: Serving;
const clock = simulatedClock(Date.parse('2026-03-02T09:00:00Z'));

async function liveEndpoint(name: string) {
  await serving.create({ name, config: single(1) });
  clock.advance(twin.settings.rolloutDelayMs + 1);
}

const getsOf = (name: string, from: number) =>
  twin.requests
    .slice(from)
    .filter((r) => r.method === 'GET' && r.path === `/api/2.0/serving-endpoints/${name}`);

beforeAll(async () => {
  const state = emptyState();
  state.models.set(
    MODEL,
    churnModel([
      { version: 1 },
      { version: 2 },
      {
        version: 3,
        comment: 'adds xgboost [fails-to-build]: No matching distribution found for xgboost==9.9',
      },
    ]),
  );
  twin = await startWorkspaceTwin({ state, clock, rolloutDelayMs: TEN_MINUTES });
  serving = createServingClient(
    createDatabricksHttp({
      host: twin.url,
      tokens: staticTokenProvider(twin.token),
      clock,
      baseBackoffMs: 10,
    }),
  );
});

afterAll(async () => {
  await twin.stop();
});

describe('waitForRollout', () => {
  it('waits out a 10-minute rollout in at most 40 reads and reports each change once', async () => {
    await liveEndpoint('churn-wait');
    await serving.updateConfig('churn-wait', single(2));
    const from = twin.requests.length;
    const changes: string[] = [];
    const started = clock.now();

    const result = await waitForRollout(serving, 'churn-wait', {
      clock,
      onChange: (ep) => void changes.push(seen(ep)),
    });

    expect(result.outcome).toBe('ready');
    expect(result.endpoint.current?.configVersion).toBe(2);
    expect(result.endpoint.current?.servedVersions.map((v) => v.name)).toEqual(['churn_model-2']);
    expect(changes).toEqual([
      'IN_PROGRESS, live v1, pending v2, churn_model-2 DEPLOYMENT_CREATING',
      'NOT_UPDATING, live v2, pending v-',
    ]);
    const gets = getsOf('churn-wait', from);
    expect(gets.length).toBeLessThanOrEqual(40);
    expect(gets.length).toBeGreaterThan(5);
    // It noticed the end within one back-off step (≤ 30 s) of the rollout settling.
    expect(clock.now() - started).toBeLessThanOrEqual(TEN_MINUTES + 30_000);
  });

  it('ends in failed with Databricks’ reason and the old config still live', async () => {
    await liveEndpoint('churn-fail');
    await serving.updateConfig('churn-fail', single(2));
    failNextRollout(
      twin.state,
      'churn-fail',
      'Model server failed to start: ImportError: cannot import name churn',
    );
    const changes: string[] = [];

    const result = await waitForRollout(serving, 'churn-fail', {
      clock,
      onChange: (ep) => void changes.push(seen(ep)),
    });

    expect(result).toMatchObject({
      outcome: 'failed',
      reason: 'churn_model-2: Model server failed to start: ImportError: cannot import name churn',
    });
    expect(result.endpoint).toMatchObject({ ready: true, updateState: 'UPDATE_FAILED' });
    expect(result.endpoint.current?.configVersion).toBe(1);
    expect(changes.at(-1)).toBe('UPDATE_FAILED, live v1, pending v2, churn_model-2 DEPLOYMENT_FAILED');
    // A failed rollout does not block the next one.
    expect((await serving.updateConfig('churn-fail', single(1))).updating).toBe(true);
  });

  it('ends in failed with the build error of a version that cannot be built', async () => {
    await liveEndpoint('churn-build');
    await serving.updateConfig('churn-build', single(3));

    const result = await waitForRollout(serving, 'churn-build', { clock });

    expect(result.outcome).toBe('failed');
    expect((result as Extract<RolloutResult, { outcome: 'failed' }>).reason).toBe(
      "churn_model-3: Container image build failed for served entity 'churn_model-3': No matching distribution found for xgboost==9.9. See the build logs for details.",
    );
  });

  it('fails a new endpoint whose first rollout fails, leaving it not ready', async () => {
    failNextRollout(twin.state, 'churn-new-fail', 'Container creation failed: quota exceeded');
    await serving.create({ name: 'churn-new-fail', config: single(1) });

    const result = await waitForRollout(serving, 'churn-new-fail', { clock });

    expect(result).toMatchObject({
      outcome: 'failed',
      endpoint: { ready: false, updateState: 'UPDATE_FAILED' },
    });
    expect(result.endpoint.current).toBeUndefined();
  });

  it('times out when the rollout outlasts the timeout, still reporting the rollout as running', async () => {
    await liveEndpoint('churn-slow');
    await serving.updateConfig('churn-slow', single(2));
    const started = clock.now();

    const result = await waitForRollout(serving, 'churn-slow', { clock, timeoutMs: 5 * 60_000 });

    expect(result.outcome).toBe('timed_out');
    expect(result.endpoint.updating).toBe(true);
    expect(clock.now() - started).toBe(5 * 60_000);
  });

  it('absorbs 503s while polling and still finds the end', async () => {
    await liveEndpoint('churn-503');
    await serving.updateConfig('churn-503', single(2));
    twin.faults.next('GET /api/2.0/serving-endpoints/:name', { kind: 'status', status: 503 }, 3);
    const from = twin.requests.length;

    const result = await waitForRollout(serving, 'churn-503', { clock });

    expect(result.outcome).toBe('ready');
    expect(getsOf('churn-503', from).filter((r) => r.status === 503)).toHaveLength(3);
  });

  it('ends the wait with a clear error when the workspace keeps failing', async () => {
    await liveEndpoint('churn-down');
    await serving.updateConfig('churn-down', single(2));
    twin.faults.next('GET /api/2.0/serving-endpoints/:name', { kind: 'status', status: 503 }, 500);
    try {
      const err = await waitForRollout(serving, 'churn-down', { clock }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect(err).toMatchObject({ code: 'rollout_watch_failed' });
      expect(describeError(err as UserError).text).toMatch(
        /^Lost track of the rollout on churn-down: Injected fault: HTTP 503/,
      );
      expect(describeError(err as UserError).hint).toMatch(/may still be going on/);
    } finally {
      twin.faults.clear();
    }
  });

  it('says clearly when the endpoint does not exist', async () => {
    const err = await waitForRollout(serving, 'churn-missing', { clock }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'endpoint_not_found' });
  });

  it('counts a rollout replaced by another config as failed when a config version is expected', async () => {
    await liveEndpoint('churn-replaced');
    const mine = await serving.updateConfig('churn-replaced', single(2));
    clock.advance(TEN_MINUTES + 1);
    await serving.updateConfig('churn-replaced', single(1));
    clock.advance(TEN_MINUTES + 1);

    const result = await waitForRollout(serving, 'churn-replaced', {
      clock,
      ...(mine.pending?.configVersion ? { expectConfigVersion: mine.pending.configVersion } : {}),
    });

    expect(result).toMatchObject({
      outcome: 'failed',
      reason: expect.stringMatching(/config version 3 is live, not 2/),
    });
  });

  it('stops when its signal is aborted', async () => {
    await liveEndpoint('churn-abort');
    await serving.updateConfig('churn-abort', single(2));
    const controller = new AbortController();
    const wait = waitForRollout(serving, 'churn-abort', {
      clock,
      signal: controller.signal,
      onChange: () => controller.abort(new Error('user pressed stop')),
    });
    await expect(wait).rejects.toThrow('user pressed stop');
  });
});
