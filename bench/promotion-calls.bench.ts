/**
 * Databricks calls made by one approved Production promotion (request → approve → executed),
 * counted at the workspace twin. "before" was measured on commit d8a0488 with the same scenario
 * (the rollout settling at once), when the execution rebuilt each step's plan through the click
 * path; "after" is measured now.
 */
import { countPromotionCalls } from '../test/support/promotion-calls.js';
import type { BenchRow } from './run.js';

/** Measured on d8a0488: 6 calls to request, 12 to approve and execute. */
const BEFORE = 18;

export default async function promotionCalls(): Promise<BenchRow[]> {
  const { calls, request, approveAndExecute } = await countPromotionCalls();
  console.log(`before (d8a0488): ${BEFORE}`);
  console.log(`after: ${calls.length}`);
  return [
    { name: 'Databricks calls, before (measured on d8a0488)', value: String(BEFORE) },
    {
      name: 'Databricks calls, after',
      value: `${calls.length} (request ${request.length}, approve + execute ${approveAndExecute.length})`,
      target: `< ${BEFORE}`,
    },
  ];
}
