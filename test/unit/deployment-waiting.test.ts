import { describe, expect, it } from 'vitest';
import type { DeploymentApprovalPlan } from '../../src/approvals/request-plan.js';
import { ConfigError } from '../../src/config/databricks-connection.js';
import { parsePolicy } from '../../src/config/policy.js';
import { approves, decideTick, waitingAtApproval } from '../../src/deployment-jobs/waiting.js';
import type { DeploymentRun } from '../../src/domain/ports/deployment-jobs.js';

const MODEL = 'acme.mlops.churn_model';

function run(
  overrides: Partial<DeploymentRun> & { approval?: [string, string?]; runId?: number } = {},
): DeploymentRun {
  const [state, code] = overrides.approval ?? ['TERMINATED', 'RUN_EXECUTION_ERROR'];
  return {
    runId: overrides.runId ?? 7,
    jobId: 2001,
    state: 'TERMINATED',
    parameters: { model_name: MODEL, model_version: '5' },
    tasks: [
      { key: 'evaluation', runId: 70, state: 'TERMINATED', code: 'SUCCESS' },
      { key: 'approval', runId: 71, state, ...(code ? { code } : {}) },
    ],
    repairs: [],
    ...overrides,
  };
}

const plan = (over: Partial<DeploymentApprovalPlan> = {}): DeploymentApprovalPlan => ({
  kind: 'deployment',
  model: MODEL,
  version: 5,
  jobId: 2001,
  jobName: 'churn-deployment',
  runId: 7,
  runUrl: 'https://x/jobs/2001/runs/7',
  approvalTask: 'approval',
  approvalTaskRunId: 71,
  metrics: [],
  ...over,
});

describe('waitingAtApproval', () => {
  const cases: Array<{ name: string; run: DeploymentRun; want: boolean }> = [
    { name: 'approval task failed, run ended', run: run(), want: true },
    { name: 'approval task blocked', run: run({ approval: ['BLOCKED'] }), want: true },
    { name: 'approval task passed', run: run({ approval: ['TERMINATED', 'SUCCESS'] }), want: false },
    { name: 'run still running', run: run({ state: 'RUNNING' }), want: false },
    { name: 'no such task', run: run({ tasks: [] }), want: false },
  ];
  for (const c of cases) it(c.name, () => expect(waitingAtApproval(c.run, 'approval')).toBe(c.want));
});

describe('approves', () => {
  it('takes Approved in any case and nothing else', () => {
    expect([approves('Approved'), approves('APPROVED '), approves('pending'), approves(undefined)]).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });
});

describe('decideTick', () => {
  it('asks about a waiting run of the model once, and leaves other models’ runs alone', () => {
    const other = run({ runId: 8, parameters: { model_name: 'acme.mlops.fraud', model_version: '1' } });
    const d = decideTick({
      model: MODEL,
      approvalTask: 'approval',
      runs: [run(), other],
      asked: new Set(),
      pending: [],
    });
    expect(d.candidates.map((c) => [c.run.runId, c.version])).toEqual([[7, 5]]);
    expect(
      decideTick({ model: MODEL, approvalTask: 'approval', runs: [run()], asked: new Set([7]), pending: [] })
        .candidates,
    ).toEqual([]);
  });

  it('finds a pending request stale once its run is repaired or no longer waiting', () => {
    const repaired = run({
      tasks: [{ key: 'approval', runId: 99, state: 'TERMINATED', code: 'RUN_EXECUTION_ERROR' }],
    });
    const running = run({ state: 'RUNNING' });
    const pending = [{ requestId: 'apr-1', plan: plan() }];
    const stale = (r: DeploymentRun) =>
      decideTick({ model: MODEL, approvalTask: 'approval', runs: [r], asked: new Set([7]), pending }).stale;
    expect(stale(run())).toEqual([]);
    expect(stale(repaired)[0]?.what).toContain('was repaired outside modelgate');
    expect(stale(running)[0]?.what).toContain('is no longer waiting at approval (it is RUNNING)');
  });
});

describe('the deploymentJobs policy entry', () => {
  const parse = (entry: string, gates = 'gates: { production: { approvers: { users: [U0APPROVE] } } }') => {
    try {
      return parsePolicy(
        `defaults: { catalog: acme, schema: mlops }\n${gates}\ndeploymentJobs:\n  churn_model: ${entry}\n`,
      );
    } catch (e) {
      if (e instanceof ConfigError) return e.issues;
      throw e;
    }
  };

  it('defaults the approval and evaluation tasks and the gate', () => {
    const policy = parse('{ job: 2001 }');
    expect(Array.isArray(policy) ? policy : policy.deploymentJobs).toEqual({
      churn_model: { job: 2001, approvalTask: 'approval', evaluationTask: 'evaluation', gate: 'production' },
    });
  });

  it('refuses a bad job id, a bad task key, one task for both, and a gate the policy lacks, each with its fix', () => {
    const issues = (entry: string, gates?: string) => {
      const r = parse(entry, gates);
      return Array.isArray(r) ? r.map((i) => `${i.key}: ${i.problem} → ${i.fix}`) : [];
    };
    expect(issues('{ job: "x" }')[0]).toContain('should be a number');
    expect(issues('{ job: 2001, approvalTask: "app roval" }')[0]).toContain('is not a task key');
    expect(issues('{ job: 2001, approvalTask: check, evaluationTask: check }')[0]).toContain(
      'same task as approvalTask',
    );
    expect(issues('{ job: 2001, gate: deploy }', 'gates: {}')[0]).toContain(
      'names gate "deploy", which the policy does not have',
    );
  });
});
