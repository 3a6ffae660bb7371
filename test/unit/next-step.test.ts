import { describe, expect, it } from 'vitest';
import { commandOfNextStep, nextStepOf } from '../../src/changes/next-step.js';
import type { AliasPlan, ChangeStatus, EndpointPlan, Plan } from '../../src/domain/change.js';

const alias = (name: string): AliasPlan => ({
  kind: 'alias',
  subcommand: 'promote',
  model: 'acme.mlops.churn_model',
  alias: name,
  fromVersion: 2,
  toVersion: 4,
  fingerprint: '2',
});
const endpoint = (over: Partial<EndpointPlan> = {}): EndpointPlan => ({
  kind: 'endpoint',
  subcommand: 'deploy',
  endpoint: 'churn-endpoint',
  create: false,
  after: { servedVersions: [], traffic: [] },
  fingerprint: 'fp',
  ...over,
});

describe('the next step after a change', () => {
  const cases: Array<{
    name: string;
    plan: Plan;
    status: ChangeStatus;
    want: ReturnType<typeof nextStepOf>;
  }> = [
    {
      name: 'a move to Champion offers promoting that version to Production',
      plan: alias('Champion'),
      status: 'succeeded',
      want: { kind: 'promote', model: 'acme.mlops.churn_model', version: 4, alias: 'Production' },
    },
    {
      name: 'a failed move to Champion offers nothing',
      plan: alias('Champion'),
      status: 'failed',
      want: undefined,
    },
    {
      name: 'a move to Production offers nothing',
      plan: alias('Production'),
      status: 'succeeded',
      want: undefined,
    },
    {
      name: 'a failed deploy offers a rollback',
      plan: endpoint(),
      status: 'failed',
      want: { kind: 'rollback', endpoint: 'churn-endpoint' },
    },
    { name: 'a deploy that worked offers nothing', plan: endpoint(), status: 'succeeded', want: undefined },
    { name: 'a timed-out deploy offers nothing', plan: endpoint(), status: 'timed_out', want: undefined },
    {
      name: 'a failed rollback offers nothing',
      plan: endpoint({ subcommand: 'rollback' }),
      status: 'failed',
      want: undefined,
    },
    {
      name: 'a failed create has nothing to go back to',
      plan: endpoint({ create: true }),
      status: 'failed',
      want: undefined,
    },
  ];
  it.each(cases)('$name', ({ plan, status, want }) => {
    expect(nextStepOf(plan, status)).toEqual(want);
  });

  it('runs the commands as typed, not as dry runs', () => {
    expect(commandOfNextStep({ kind: 'rollback', endpoint: 'e' })).toEqual({
      subcommand: 'rollback',
      endpoint: 'e',
      dryRun: false,
    });
    expect(commandOfNextStep({ kind: 'promote', model: 'm', version: 4, alias: 'Production' })).toMatchObject(
      {
        subcommand: 'promote',
        alias: 'Production',
        version: 4,
        dryRun: false,
      },
    );
  });
});
