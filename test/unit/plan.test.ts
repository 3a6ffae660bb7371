import { describe, expect, it } from 'vitest';
import {
  aliasFingerprint,
  diffPlan,
  endpointFingerprint,
  planDeploy,
  planPromote,
  planRollback,
  planSplit,
  summarisePlan,
} from '../../src/changes/plan/index.js';
import type { DiffLine, Plan } from '../../src/domain/change.js';
import { UserError } from '../../src/domain/errors.js';
import type { ModelInfo, ModelVersionInfo } from '../../src/domain/ports/registry.js';
import type { Endpoint, EndpointConfig, ServedVersion } from '../../src/domain/ports/serving.js';
import { describeError } from '../../src/slack/blocks/errors.js';

const MODEL = 'acme.mlops.churn_model';

function version(v: number, status = 'READY', modelName = MODEL): ModelVersionInfo {
  return { modelName, version: v, status, createdAt: new Date('2026-11-01T00:00:00Z'), aliases: [] };
}

function served(v: number, more: Partial<ServedVersion> = {}): ServedVersion {
  return {
    name: `churn_model-${v}`,
    modelName: MODEL,
    modelVersion: String(v),
    workloadSize: 'Small',
    scaleToZero: true,
    state: 'DEPLOYMENT_READY',
    ...more,
  };
}

function config(routes: Array<[ServedVersion, number]>, configVersion = 4): EndpointConfig {
  return {
    servedVersions: routes.map(([s]) => s),
    traffic: routes.map(([s, percent]) => ({ servedName: s.name, percent })),
    configVersion,
  };
}

function endpoint(current: EndpointConfig | undefined, more: Partial<Endpoint> = {}): Endpoint {
  return {
    name: 'churn-endpoint',
    ready: current !== undefined,
    updating: false,
    updateState: 'NOT_UPDATING',
    ...(current ? { current } : {}),
    ...more,
  };
}

function model(aliases: Array<[string, number]>): ModelInfo {
  return { fullName: MODEL, aliases: aliases.map(([alias, v]) => ({ alias, version: v })) };
}

function refusal(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

const v2 = served(2);
const v2Medium = served(2, { workloadSize: 'Medium', scaleToZero: false });
const live = config([[v2, 100]]);

describe('planDeploy', () => {
  const cases: Array<{
    name: string;
    input: Parameters<typeof planDeploy>[0];
    want: { create: boolean; after: EndpointConfig; fingerprint?: string };
  }> = [
    {
      name: 'creates a missing endpoint serving the version at 100% with Small and scale-to-zero on',
      input: { endpointName: 'new-endpoint', endpoint: undefined, version: version(3) },
      want: {
        create: true,
        fingerprint: 'absent',
        after: {
          servedVersions: [
            {
              name: 'churn_model-3',
              modelName: MODEL,
              modelVersion: '3',
              workloadSize: 'Small',
              scaleToZero: true,
            },
          ],
          traffic: [{ servedName: 'churn_model-3', percent: 100 }],
        },
      },
    },
    {
      name: 'replaces the served version and keeps the size and scale-to-zero of the same model',
      input: {
        endpointName: 'churn-endpoint',
        endpoint: endpoint(config([[v2Medium, 100]])),
        version: version(3),
      },
      want: {
        create: false,
        after: {
          servedVersions: [
            {
              name: 'churn_model-3',
              modelName: MODEL,
              modelVersion: '3',
              workloadSize: 'Medium',
              scaleToZero: false,
            },
          ],
          traffic: [{ servedName: 'churn_model-3', percent: 100 }],
        },
      },
    },
    {
      name: 'uses the size and scale-to-zero asked for',
      input: {
        endpointName: 'churn-endpoint',
        endpoint: endpoint(live),
        version: version(3),
        size: 'Large',
        scaleToZero: false,
      },
      want: {
        create: false,
        after: {
          servedVersions: [
            {
              name: 'churn_model-3',
              modelName: MODEL,
              modelVersion: '3',
              workloadSize: 'Large',
              scaleToZero: false,
            },
          ],
          traffic: [{ servedName: 'churn_model-3', percent: 100 }],
        },
      },
    },
    {
      name: 'keeps the served name and settings of a version already served at a fraction of the traffic',
      input: {
        endpointName: 'churn-endpoint',
        endpoint: endpoint(
          config([
            [v2, 90],
            [served(3, { name: 'challenger', workloadSize: 'Medium' }), 10],
          ]),
        ),
        version: version(3),
      },
      want: {
        create: false,
        after: {
          servedVersions: [
            {
              name: 'challenger',
              modelName: MODEL,
              modelVersion: '3',
              workloadSize: 'Medium',
              scaleToZero: true,
            },
          ],
          traffic: [{ servedName: 'challenger', percent: 100 }],
        },
      },
    },
    {
      name: 'redeploys the served version with a new size',
      input: {
        endpointName: 'churn-endpoint',
        endpoint: endpoint(live),
        version: version(2),
        size: 'Medium',
      },
      want: {
        create: false,
        after: {
          servedVersions: [
            {
              name: 'churn_model-2',
              modelName: MODEL,
              modelVersion: '2',
              workloadSize: 'Medium',
              scaleToZero: true,
            },
          ],
          traffic: [{ servedName: 'churn_model-2', percent: 100 }],
        },
      },
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const plan = planDeploy(c.input);
      expect(plan.kind).toBe('endpoint');
      expect(plan.subcommand).toBe('deploy');
      expect(plan.create).toBe(c.want.create);
      expect(plan.after).toEqual(c.want.after);
      expect(plan.before).toEqual(c.input.endpoint?.current);
      expect(plan.fingerprint).toBe(c.want.fingerprint ?? endpointFingerprint(c.input.endpoint));
    });
  }

  it('puts the target of the alias a version was chosen by in the fingerprint', () => {
    const byAlias = planDeploy({
      endpointName: 'churn-endpoint',
      endpoint: endpoint(live),
      version: version(3),
      alias: 'Challenger',
    });
    expect(byAlias.fingerprint).toBe(`${endpointFingerprint(endpoint(live))};alias challenger=3`);
  });

  it('refuses a deploy that changes nothing', () => {
    const err = refusal(() =>
      planDeploy({ endpointName: 'churn-endpoint', endpoint: endpoint(live), version: version(2) }),
    );
    expect(err.code).toBe('no_change');
    expect(describeError(err).text).toBe(
      'churn-endpoint already serves churn_model v2 100%; nothing to change.',
    );
  });

  it('refuses a version that is not READY', () => {
    const err = refusal(() =>
      planDeploy({
        endpointName: 'churn-endpoint',
        endpoint: endpoint(live),
        version: version(4, 'PENDING_REGISTRATION'),
      }),
    );
    expect(err.code).toBe('version_not_ready');
  });
});

describe('planSplit', () => {
  const cases: Array<{ name: string; input: Parameters<typeof planSplit>[0]; want: EndpointConfig }> = [
    {
      name: 'adds a version not served yet with the settings of the served one',
      input: {
        endpoint: endpoint(config([[v2Medium, 100]])),
        routes: [
          { version: 2, percent: 90 },
          { version: 3, percent: 10 },
        ],
        newVersions: [version(3)],
      },
      want: {
        servedVersions: [
          {
            name: 'churn_model-2',
            modelName: MODEL,
            modelVersion: '2',
            workloadSize: 'Medium',
            scaleToZero: false,
          },
          {
            name: 'churn_model-3',
            modelName: MODEL,
            modelVersion: '3',
            workloadSize: 'Medium',
            scaleToZero: false,
          },
        ],
        traffic: [
          { servedName: 'churn_model-2', percent: 90 },
          { servedName: 'churn_model-3', percent: 10 },
        ],
      },
    },
    {
      name: 'removes served versions left out',
      input: {
        endpoint: endpoint(
          config([
            [v2, 50],
            [served(3), 50],
          ]),
        ),
        routes: [{ version: 3, percent: 100 }],
        newVersions: [],
      },
      want: {
        servedVersions: [
          {
            name: 'churn_model-3',
            modelName: MODEL,
            modelVersion: '3',
            workloadSize: 'Small',
            scaleToZero: true,
          },
        ],
        traffic: [{ servedName: 'churn_model-3', percent: 100 }],
      },
    },
    {
      name: 'keeps a version at 0% when asked to',
      input: {
        endpoint: endpoint(
          config([
            [v2, 50],
            [served(3), 50],
          ]),
        ),
        routes: [
          { version: 2, percent: 100 },
          { version: 3, percent: 0 },
        ],
        newVersions: [],
      },
      want: {
        servedVersions: [
          {
            name: 'churn_model-2',
            modelName: MODEL,
            modelVersion: '2',
            workloadSize: 'Small',
            scaleToZero: true,
          },
          {
            name: 'churn_model-3',
            modelName: MODEL,
            modelVersion: '3',
            workloadSize: 'Small',
            scaleToZero: true,
          },
        ],
        traffic: [
          { servedName: 'churn_model-2', percent: 100 },
          { servedName: 'churn_model-3', percent: 0 },
        ],
      },
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const plan = planSplit(c.input);
      expect(plan).toMatchObject({
        kind: 'endpoint',
        subcommand: 'split',
        create: false,
        endpoint: 'churn-endpoint',
      });
      expect(plan.after).toEqual(c.want);
      expect(plan.before).toEqual(c.input.endpoint.current);
      expect(plan.fingerprint).toBe(endpointFingerprint(c.input.endpoint));
    });
  }

  const refusals: Array<{ name: string; input: Parameters<typeof planSplit>[0]; want: string }> = [
    {
      name: 'an endpoint without a live config',
      input: { endpoint: endpoint(undefined), routes: [{ version: 2, percent: 100 }], newVersions: [] },
      want: 'no_live_config',
    },
    {
      name: 'an endpoint serving several models',
      input: {
        endpoint: endpoint(
          config([
            [v2, 50],
            [served(1, { name: 'fraud-1', modelName: 'acme.mlops.fraud' }), 50],
          ]),
        ),
        routes: [{ version: 2, percent: 100 }],
        newVersions: [],
      },
      want: 'several_models',
    },
    {
      name: 'a split that is already live',
      input: { endpoint: endpoint(live), routes: [{ version: 2, percent: 100 }], newVersions: [] },
      want: 'no_change',
    },
    {
      name: 'a new version that is not READY',
      input: {
        endpoint: endpoint(live),
        routes: [
          { version: 2, percent: 50 },
          { version: 4, percent: 50 },
        ],
        newVersions: [version(4, 'FAILED_REGISTRATION')],
      },
      want: 'version_not_ready',
    },
  ];
  for (const r of refusals) {
    it(`refuses ${r.name}`, () => {
      expect(refusal(() => planSplit(r.input)).code).toBe(r.want);
    });
  }
});

describe('planRollback', () => {
  const previous = config([[v2Medium, 100]], 3);
  const now = endpoint(config([[served(3), 100]], 4));

  it('restores the previous served versions and traffic, without deployment states', () => {
    const plan = planRollback({ endpoint: now, previous });
    expect(plan).toMatchObject({
      kind: 'endpoint',
      subcommand: 'rollback',
      create: false,
      before: now.current,
    });
    expect(plan.after).toEqual({
      servedVersions: [
        {
          name: 'churn_model-2',
          modelName: MODEL,
          modelVersion: '2',
          workloadSize: 'Medium',
          scaleToZero: false,
        },
      ],
      traffic: [{ servedName: 'churn_model-2', percent: 100 }],
    });
  });

  it('refuses when the bot has no history of the endpoint, with a hint', () => {
    const err = refusal(() => planRollback({ endpoint: now, previous: undefined }));
    expect(err.code).toBe('no_history');
    expect(describeError(err).hint).toContain('/mlops deploy');
  });

  it('refuses when the previous config is what is live', () => {
    expect(refusal(() => planRollback({ endpoint: endpoint(previous), previous })).code).toBe('no_change');
  });
});

describe('planPromote', () => {
  const cases: Array<{ name: string; input: Parameters<typeof planPromote>[0]; want: Partial<Plan> }> = [
    {
      name: 'moves an alias from one version to another',
      input: { model: model([['Champion', 2]]), alias: 'Champion', version: version(3) },
      want: {
        kind: 'alias',
        model: MODEL,
        alias: 'Champion',
        fromVersion: 2,
        toVersion: 3,
        fingerprint: '2',
      },
    },
    {
      name: 'sets an alias that points nowhere yet',
      input: { model: model([['Champion', 2]]), alias: 'Challenger', version: version(3) },
      want: { kind: 'alias', alias: 'Challenger', toVersion: 3, fingerprint: 'none' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = planPromote(c.input);
      expect(plan).toMatchObject(c.want);
      if (c.want.fingerprint === 'none') expect(plan.fromVersion).toBeUndefined();
    });
  }

  it('refuses a move to where the alias already points (aliases are case-insensitive)', () => {
    const err = refusal(() =>
      planPromote({ model: model([['champion', 3]]), alias: 'Champion', version: version(3) }),
    );
    expect(err.code).toBe('no_change');
    expect(describeError(err).text).toBe(
      'Champion of acme.mlops.churn_model already points at version 3; nothing to change.',
    );
  });

  it('refuses a version that is not READY', () => {
    expect(
      refusal(() =>
        planPromote({ model: model([]), alias: 'Champion', version: version(3, 'PENDING_REGISTRATION') }),
      ).code,
    ).toBe('version_not_ready');
  });
});

describe('diffPlan', () => {
  const cases: Array<{ name: string; plan: Plan; want: DiffLine[] }> = [
    {
      name: 'a deploy to a new endpoint',
      plan: planDeploy({ endpointName: 'new-endpoint', endpoint: undefined, version: version(3) }),
      want: [
        { label: 'endpoint new-endpoint', before: 'does not exist', after: 'created', change: 'added' },
        { label: 'churn_model v3 traffic', before: 'not served', after: '100%', change: 'added' },
        { label: 'churn_model v3 size', before: '—', after: 'Small', change: 'added' },
        { label: 'churn_model v3 scale-to-zero', before: '—', after: 'on', change: 'added' },
      ],
    },
    {
      name: 'a deploy replacing the served version',
      plan: planDeploy({ endpointName: 'churn-endpoint', endpoint: endpoint(live), version: version(3) }),
      want: [
        { label: 'churn_model v2 traffic', before: '100%', after: 'removed', change: 'removed' },
        { label: 'churn_model v3 traffic', before: 'not served', after: '100%', change: 'added' },
        { label: 'churn_model v3 size', before: '—', after: 'Small', change: 'added' },
        { label: 'churn_model v3 scale-to-zero', before: '—', after: 'on', change: 'added' },
      ],
    },
    {
      name: 'a redeploy with other settings',
      plan: planDeploy({
        endpointName: 'churn-endpoint',
        endpoint: endpoint(live),
        version: version(2),
        size: 'Large',
        scaleToZero: false,
      }),
      want: [
        { label: 'churn_model v2 traffic', before: '100%', after: '100%', change: 'unchanged' },
        { label: 'churn_model v2 size', before: 'Small', after: 'Large', change: 'changed' },
        { label: 'churn_model v2 scale-to-zero', before: 'on', after: 'off', change: 'changed' },
      ],
    },
    {
      name: 'a split between a served and a new version',
      plan: planSplit({
        endpoint: endpoint(live),
        routes: [
          { version: 3, percent: 10 },
          { version: 2, percent: 90 },
        ],
        newVersions: [version(3)],
      }),
      want: [
        { label: 'churn_model v2 traffic', before: '100%', after: '90%', change: 'changed' },
        { label: 'churn_model v3 traffic', before: 'not served', after: '10%', change: 'added' },
        { label: 'churn_model v3 size', before: '—', after: 'Small', change: 'added' },
        { label: 'churn_model v3 scale-to-zero', before: '—', after: 'on', change: 'added' },
      ],
    },
    {
      name: 'an alias move',
      plan: planPromote({ model: model([['Champion', 2]]), alias: 'Champion', version: version(3) }),
      want: [{ label: 'churn_model alias Champion', before: 'v2', after: 'v3', change: 'changed' }],
    },
    {
      name: 'a new alias',
      plan: planPromote({ model: model([]), alias: 'Challenger', version: version(3) }),
      want: [{ label: 'churn_model alias Challenger', before: 'none', after: 'v3', change: 'added' }],
    },
  ];
  for (const c of cases) {
    it(`describes ${c.name}`, () => {
      expect(diffPlan(c.plan)).toEqual(c.want);
    });
  }
});

describe('summarisePlan', () => {
  const cases: Array<{ plan: Plan; want: string }> = [
    {
      plan: planDeploy({ endpointName: 'new-endpoint', endpoint: undefined, version: version(3) }),
      want: 'Create new-endpoint serving churn_model v3',
    },
    {
      plan: planDeploy({ endpointName: 'churn-endpoint', endpoint: endpoint(live), version: version(3) }),
      want: 'Deploy churn_model v3 to churn-endpoint',
    },
    {
      plan: planSplit({
        endpoint: endpoint(live),
        routes: [
          { version: 2, percent: 90 },
          { version: 3, percent: 10 },
        ],
        newVersions: [version(3)],
      }),
      want: 'Split traffic on churn-endpoint: v2 90%, v3 10%',
    },
    {
      plan: planRollback({ endpoint: endpoint(config([[served(3), 100]])), previous: live }),
      want: 'Roll back churn-endpoint to churn_model v2 100%',
    },
    {
      plan: planPromote({ model: model([['Champion', 2]]), alias: 'Champion', version: version(3) }),
      want: 'Move Champion of churn_model from v2 to v3',
    },
  ];
  for (const c of cases) {
    it(`says "${c.want}"`, () => {
      expect(summarisePlan(c.plan)).toBe(c.want);
    });
  }
});

describe('fingerprints', () => {
  it('changes when the traffic, the served versions, the config version or a pending rollout change', () => {
    const base = endpointFingerprint(endpoint(live));
    expect(endpointFingerprint(endpoint(config([[v2, 100]], 5)))).not.toBe(base);
    expect(endpointFingerprint(endpoint(config([[v2Medium, 100]])))).not.toBe(base);
    expect(
      endpointFingerprint(
        endpoint(
          config([
            [v2, 90],
            [served(3), 10],
          ]),
        ),
      ),
    ).not.toBe(base);
    expect(endpointFingerprint(endpoint(live, { updating: true, updateState: 'IN_PROGRESS' }))).not.toBe(
      base,
    );
    expect(endpointFingerprint(undefined)).toBe('absent');
  });

  it('ignores deployment states and the order of served versions', () => {
    const a = config([
      [v2, 50],
      [served(3), 50],
    ]);
    const b = config([
      [served(3, { state: 'DEPLOYMENT_CREATING' }), 50],
      [served(2, { state: 'SCALED_TO_ZERO' }), 50],
    ]);
    expect(endpointFingerprint(endpoint(a))).toBe(endpointFingerprint(endpoint(b)));
  });

  it('is the version an alias points at, or none', () => {
    expect(aliasFingerprint(model([['Champion', 2]]), 'champion')).toBe('2');
    expect(aliasFingerprint(model([['Champion', 2]]), 'Challenger')).toBe('none');
  });
});
