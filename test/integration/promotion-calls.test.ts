import { expect, it } from 'vitest';
import { countPromotionCalls } from '../support/promotion-calls.js';

/** Measured on d8a0488, before executions stopped rebuilding plans: 6 to request, 12 to approve and run. */
const BEFORE = 18;
/** The budget now: the plan is built once at request time and checked once at approval. */
const BUDGET = 14;

it('makes at most the budgeted Databricks calls for one approved Production promotion', async () => {
  const { calls, request, approveAndExecute } = await countPromotionCalls();
  expect(calls.length).toBeLessThanOrEqual(BUDGET);
  expect(calls.length).toBeLessThan(BEFORE);
  // Requesting builds the plan (and the bound endpoint's step) once and reads the evidence.
  expect(request).toHaveLength(6);
  // The deciding vote rebuilds the plan once; executing calls only what changes something.
  const reads = approveAndExecute.filter((c) => c.startsWith('GET '));
  const planChecks = reads.filter((c) => c.endsWith('/models/acme.mlops.churn_model'));
  expect(planChecks).toHaveLength(1);
  expect(approveAndExecute.filter((c) => c.startsWith('PUT '))).toEqual([
    'PUT /api/2.0/serving-endpoints/churn-endpoint/config',
    'PUT /api/2.1/unity-catalog/models/acme.mlops.churn_model/aliases/Production',
  ]);
});
