import { describe, expect, it } from 'vitest';
import { parseExecutionResult } from '../../src/approvals/execution-result.js';
import {
  auditDetailText,
  describeExecution,
  executionText,
} from '../../src/slack/blocks/approval-outcome.js';

const run = { runId: 42, url: 'https://ws.example/jobs/1001/runs/42', jobName: 'churn-retrain' };

describe('an execution told from its stored facts', () => {
  const cases = [
    {
      name: 'names each step a change request ran',
      result: {
        kind: 'changes',
        ok: true,
        done: ['churn-endpoint serves v3.', 'Production now points at v3.'],
      },
      want: 'churn-endpoint serves v3. Production now points at v3.',
    },
    {
      name: 'says which step failed after those that succeeded',
      result: {
        kind: 'step_failed',
        ok: false,
        done: ['churn-endpoint serves v3.'],
        failed: { title: 'Production → churn_model v3', status: 'timed_out', detail: 'no answer' },
      },
      want: 'churn-endpoint serves v3. Then Production → churn_model v3 timed out: no answer',
    },
    {
      name: 'links the job run of a retraining and the version it registered',
      result: {
        kind: 'run',
        ok: true,
        run,
        tookMs: 62_000,
        registered: {
          found: 'version',
          model: 'acme.mlops.churn_model',
          version: 4,
          aliases: [],
          confirmed: true,
        },
      },
      want: '<https://ws.example/jobs/1001/runs/42|run 42> of churn-retrain succeeded after 1m 2s. It registered churn_model v4 (aliases: none yet).',
    },
    {
      name: 'gives the reference of a bug of ours',
      result: { kind: 'internal', ok: false, correlationId: 'ab12cd34' },
      want: 'The bot hit an internal error while executing it (reference ab12cd34).',
    },
  ] as const;
  for (const c of cases) {
    it(c.name, () => {
      const stored = JSON.stringify(c.result);
      const parsed = parseExecutionResult(stored);
      expect(parsed).toEqual(c.result);
      expect(describeExecution(parsed!)).toBe(c.want);
      expect(auditDetailText(stored)).toBe(c.want);
    });
  }
});

describe('rows written before facts were stored', () => {
  it('keeps showing the sentence they hold', () => {
    const legacy = '<https://ws.example/jobs/1/runs/9|run 9> of churn-retrain succeeded.';
    expect(parseExecutionResult(legacy)).toBeUndefined();
    expect(executionText({ status: 'executed', outcome: legacy })).toBe(legacy);
    expect(executionText({ status: 'failed', reason: 'the run failed.' })).toBe('the run failed.');
    expect(auditDetailText('wait for the Q3 eval')).toBe('wait for the Q3 eval');
  });
});
