import { describe, expect, it } from 'vitest';
import { judgeLostUpdate, type LostUpdateVerdict, lostAnswerOf } from '../../src/changes/apply.js';
import type { EndpointPlan } from '../../src/domain/change.js';
import { DatabricksApiError, DatabricksTransportError } from '../../src/domain/ports/databricks-errors.js';
import type { Endpoint, EndpointConfig } from '../../src/domain/ports/serving.js';

const MODEL = 'main.ml.churn_model';
const config = (version: number, configVersion: number): EndpointConfig => ({
  servedVersions: [
    {
      name: `churn_model-${version}`,
      modelName: MODEL,
      modelVersion: String(version),
      workloadSize: 'Small',
      scaleToZero: true,
    },
  ],
  traffic: [{ servedName: `churn_model-${version}`, percent: 100 }],
  configVersion,
});
const plan: EndpointPlan = {
  kind: 'endpoint',
  subcommand: 'deploy',
  endpoint: 'churn',
  create: false,
  before: config(2, 7),
  after: config(3, 0),
  fingerprint: 'f',
};
const endpoint = (e: Partial<Endpoint>): Endpoint => ({
  name: 'churn',
  ready: true,
  updating: false,
  updateState: 'NOT_UPDATING',
  ...e,
});

describe('judgeLostUpdate: what the endpoint shows after an update whose answer was lost', () => {
  const cases: Array<{ name: string; now: Endpoint; want: LostUpdateVerdict }> = [
    {
      name: 'our config rolling out is ours',
      now: endpoint({
        current: config(2, 7),
        pending: config(3, 8),
        updating: true,
        updateState: 'IN_PROGRESS',
      }),
      want: { kind: 'ours', where: 'pending' },
    },
    {
      name: 'our config already live in a new version is ours',
      now: endpoint({ current: config(3, 8) }),
      want: { kind: 'ours', where: 'live' },
    },
    {
      name: 'the old config and nothing pending is unchanged',
      now: endpoint({ current: config(2, 7) }),
      want: { kind: 'unchanged' },
    },
    {
      name: 'someone else’s config rolling out is another change in flight',
      now: endpoint({
        current: config(2, 7),
        pending: config(1, 8),
        updating: true,
        updateState: 'IN_PROGRESS',
      }),
      want: { kind: 'other_in_flight', configVersion: 8 },
    },
    {
      name: 'someone else’s config live in a new version is another change',
      now: endpoint({ current: config(1, 8) }),
      want: { kind: 'other_live', configVersion: 8 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(judgeLostUpdate(plan, c.now)).toEqual(c.want));
  }
});

describe('lostAnswerOf: which failures leave an update’s outcome unknown', () => {
  const api = (status: number, gateway = false) =>
    new DatabricksApiError(status, 'X', 'm', undefined, 'PUT', '/', undefined, undefined, 1, gateway);
  it('counts time-outs, dropped connections and 5xx answers, gateway pages included', () => {
    expect(lostAnswerOf(new DatabricksTransportError('timeout', 'm', 'PUT', '/'))).toEqual({
      kind: 'timeout',
    });
    expect(lostAnswerOf(new DatabricksTransportError('connection', 'm', 'PUT', '/'))).toEqual({
      kind: 'connection',
    });
    expect(lostAnswerOf(api(502, true))).toEqual({
      kind: 'unavailable',
      status: 502,
      errorCode: 'X',
      gateway: true,
    });
    expect(lostAnswerOf(api(500))).toMatchObject({ kind: 'unavailable', status: 500 });
  });
  it('does not count answers that say what happened, nor an abort', () => {
    expect(lostAnswerOf(api(409))).toBeUndefined();
    expect(lostAnswerOf(api(429))).toBeUndefined();
    expect(lostAnswerOf(new DatabricksTransportError('aborted', 'm', 'PUT', '/'))).toBeUndefined();
  });
});
