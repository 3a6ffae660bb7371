/**
 * Doctor: each deployment job the policy links exists and has the approval and evaluation tasks
 * the policy names (a job whose approval task is missing or named differently is refused by the
 * bot before anything is sent; here it is found before the first run waits).
 */

import { shortModel } from '../../changes/describe.js';
import type { Policy } from '../../config/policy.js';
import { linkedJobs, requireTasks } from '../../deployment-jobs/check.js';
import { isUserError } from '../../domain/errors.js';
import type { DeploymentJobs } from '../../domain/ports/deployment-jobs.js';
import { describeError } from '../../slack/blocks/errors.js';
import { type CheckResult, fail, ok, skip } from '../report.js';

/**
 * @example await deploymentJobChecks(policy, { deploymentJobs }, true) // [{ status: 'ok', name: 'Deployment job churn_model', … }]
 */
export async function deploymentJobChecks(
  policy: Policy,
  deps: { deploymentJobs?: Pick<DeploymentJobs, 'getJob'> | undefined },
  databricksOk: boolean,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const linked of linkedJobs(policy)) {
    const name = `Deployment job ${shortModel(linked.model)}`;
    if (!databricksOk || !deps.deploymentJobs) {
      results.push(skip(name, 'needs Databricks to be reachable'));
      continue;
    }
    try {
      const job = await deps.deploymentJobs.getJob(linked.job);
      requireTasks(linked, job);
      results.push(
        ok(
          name,
          `job ${job.jobId} (${job.name}) has tasks ${linked.evaluationTask} and ${linked.approvalTask}`,
        ),
      );
    } catch (e) {
      results.push(
        fail(
          name,
          isUserError(e) ? describeError(e).text : `job ${linked.job} could not be read`,
          (isUserError(e) && describeError(e).hint) || 'run again',
        ),
      );
    }
  }
  return results;
}
