import { describe, expect, it } from 'vitest';
import { toEndpoint } from '../../src/databricks/serving.js';
import { normaliseConfig, sameConfig, servedNameFor } from '../../src/domain/endpoint-config.js';
import { UserError } from '../../src/domain/errors.js';
import type { EndpointConfigInput } from '../../src/domain/ports/serving.js';
import { TrafficPicker } from '../../src/sandbox/workspace/invocations.js';
import { describeError } from '../../src/slack/blocks/errors.js';

const v = (version: number, name?: string) => ({
  modelName: 'main.ml.churn_model',
  modelVersion: version,
  ...(name ? { name } : {}),
});

describe('servedNameFor', () => {
  it.each([
    { model: 'main.ml.churn_model', version: 3, want: 'churn_model-3' },
    { model: 'main.ml.Churn Model!', version: '12', want: 'Churn_Model_-12' },
    { model: 'churn', version: 1, want: 'churn-1' },
    { model: `main.ml.${'x'.repeat(80)}`, version: 123, want: `${'x'.repeat(59)}-123` },
  ])('names version $version of $model "$want"', ({ model, version, want }) => {
    expect(servedNameFor(model, version)).toBe(want);
    expect(want.length).toBeLessThanOrEqual(63);
  });
});

describe('normaliseConfig', () => {
  it('names served versions explicitly, sends versions as strings and routes a lone version 100 %', () => {
    expect(normaliseConfig({ servedVersions: [v(3)] })).toEqual({
      servedVersions: [
        {
          name: 'churn_model-3',
          modelName: 'main.ml.churn_model',
          modelVersion: '3',
          workloadSize: 'Small',
          scaleToZero: false,
        },
      ],
      traffic: [{ servedName: 'churn_model-3', percent: 100 }],
    });
  });

  it('gives a served version without a route a 0 % route', () => {
    const config = normaliseConfig({
      servedVersions: [v(3), v(4), v(5)],
      traffic: [
        { servedName: 'churn_model-3', percent: 90 },
        { servedName: 'churn_model-4', percent: 10 },
      ],
    });
    expect(config.traffic).toContainEqual({ servedName: 'churn_model-5', percent: 0 });
  });

  const refusals: Array<{ name: string; input: EndpointConfigInput; code: string; message: RegExp }> = [
    {
      name: 'a route naming a version outside the config',
      input: { servedVersions: [v(3)], traffic: [{ servedName: 'churn_model-9', percent: 100 }] },
      code: 'invalid_traffic',
      message: /"churn_model-9", which is not a served version/,
    },
    {
      name: 'routes that do not add up to 100',
      input: {
        servedVersions: [v(3), v(4)],
        traffic: [
          { servedName: 'churn_model-3', percent: 80 },
          { servedName: 'churn_model-4', percent: 10 },
        ],
      },
      code: 'invalid_traffic',
      message: /adds up to 90 %, not 100 %/,
    },
    {
      name: 'a fractional percentage',
      input: { servedVersions: [v(3)], traffic: [{ servedName: 'churn_model-3', percent: 99.5 }] },
      code: 'invalid_traffic',
      message: /not a whole percentage/,
    },
    {
      name: 'two versions without a split',
      input: { servedVersions: [v(3), v(4)] },
      code: 'invalid_traffic',
      message: /traffic split must be given/,
    },
    {
      name: 'more than 10 served versions',
      input: { servedVersions: Array.from({ length: 11 }, (_, i) => v(i + 1)) },
      code: 'too_many_versions',
      message: /at most 10 versions; this config has 11/,
    },
    {
      name: 'two served versions with one name',
      input: { servedVersions: [v(3, 'arm'), v(4, 'arm')], traffic: [{ servedName: 'arm', percent: 100 }] },
      code: 'duplicate_served_name',
      message: /both called "arm"/,
    },
    {
      name: 'the same version twice',
      input: {
        servedVersions: [v(3, 'a'), v(3, 'b')],
        traffic: [{ servedName: 'a', percent: 100 }],
      },
      code: 'duplicate_version',
      message: /Version 3 of main.ml.churn_model appears twice/,
    },
    {
      name: 'a served name Databricks would refuse',
      input: { servedVersions: [v(3, 'churn v3')] },
      code: 'invalid_name',
      message: /"churn v3" is not a valid served version name/,
    },
    {
      name: 'a version that is not a number',
      input: { servedVersions: [{ modelName: 'main.ml.churn_model', modelVersion: 'latest' }] },
      code: 'invalid_version',
      message: /"latest" is not a model version number/,
    },
  ];
  it.each(refusals)('refuses $name with a hint', ({ input, code, message }) => {
    let caught: unknown;
    try {
      normaliseConfig(input);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UserError);
    expect((caught as UserError).code).toBe(code);
    expect(describeError(caught as UserError).text).toMatch(message);
  });
});

describe('sameConfig', () => {
  it('ignores order and 0 % routes but not versions or sizes', () => {
    const a = normaliseConfig({
      servedVersions: [v(3), v(4)],
      traffic: [
        { servedName: 'churn_model-3', percent: 100 },
        { servedName: 'churn_model-4', percent: 0 },
      ],
    });
    const b = normaliseConfig({
      servedVersions: [v(4), v(3)],
      traffic: [{ servedName: 'churn_model-3', percent: 100 }],
    });
    expect(sameConfig(a, b)).toBe(true);
    const bigger = normaliseConfig({ servedVersions: [{ ...v(3), workloadSize: 'Large' }] });
    expect(sameConfig(normaliseConfig({ servedVersions: [v(3)] }), bigger)).toBe(false);
  });
});

describe('toEndpoint', () => {
  it('reads served_entities rather than the mirrored served_models and tolerates new enum values', () => {
    const ep = toEndpoint({
      name: 'churn',
      state: { ready: 'READY', config_update: 'SOMETHING_NEW' },
      creation_timestamp: 1_767_225_600,
      config: {
        config_version: 2,
        served_entities: [
          {
            name: 'churn_model-3',
            entity_name: 'main.ml.churn_model',
            entity_version: '3',
            workload_size: 'XL',
          },
        ],
        served_models: [{ name: 'stale', model_name: 'x', model_version: '1' }],
        traffic_config: { routes: [{ served_model_name: 'churn_model-3', traffic_percentage: 100 }] },
      },
    });
    expect(ep.current?.servedVersions.map((s) => s.name)).toEqual(['churn_model-3']);
    expect(ep.current?.servedVersions[0]?.workloadSize).toBe('Small');
    expect(ep.updateState).toBe('SOMETHING_NEW');
    expect(ep.updating).toBe(false);
    expect(ep.createdAt?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('gives the deployment message of a failed served version as the failure reason', () => {
    const ep = toEndpoint({
      name: 'churn',
      state: { ready: 'READY', config_update: 'UPDATE_FAILED' },
      pending_config: {
        served_entities: [
          {
            name: 'churn_model-4',
            entity_name: 'main.ml.churn_model',
            entity_version: '4',
            state: { deployment: 'DEPLOYMENT_FAILED', deployment_state_message: 'build failed' },
          },
        ],
      },
    });
    expect(ep.failureReason).toBe('churn_model-4: build failed');
  });
});

describe('TrafficPicker', () => {
  it('gives each served entity exactly its share of every 100 requests, interleaved', () => {
    const picker = new TrafficPicker();
    const config = {
      config_version: 1,
      served_entities: [],
      traffic_config: {
        routes: [
          { served_model_name: 'a', traffic_percentage: 70 },
          { served_model_name: 'b', traffic_percentage: 30 },
          { served_model_name: 'c', traffic_percentage: 0 },
        ],
      },
    };
    const picks = Array.from({ length: 100 }, () => picker.pick(config));
    expect(picks.filter((p) => p === 'a')).toHaveLength(70);
    expect(picks.filter((p) => p === 'b')).toHaveLength(30);
    expect(picks.slice(0, 10).filter((p) => p === 'b')).toHaveLength(3);
  });
});
