/**
 * The deployment-job part of the policy (`deploymentJobs`): which models have an MLflow 3
 * deployment job, and the keys of its approval and evaluation tasks. The bot watches each job's
 * runs and turns a run waiting at its approval task into an approval request (deployment-jobs/).
 *
 * The job is named here rather than read back from the registered model's `deployment_job_id`:
 * that field lives only on undocumented routes, and reading it back is unverified (reference §3.1).
 */
import { z } from 'zod';
import { checked, show } from './checked.js';

const MODEL_NAME = /^[A-Za-z0-9_-]{1,255}(\.[A-Za-z0-9_-]{1,255}){0,2}$/;
const TASK_KEY = /^[A-Za-z0-9_-]{1,100}$/;
const GATE_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

const taskKeySchema = checked(
  (v) => TASK_KEY.test(v),
  (v) => `${show(v)} is not a task key`,
  () => 'write the task key as the job shows it, e.g. approval (letters, digits, "_", "-")',
);

/** One model's deployment job. */
export const deploymentJobSchema = z.strictObject({
  job: z
    .number({ error: 'should be the numeric job id, e.g. 2001' })
    .int('should be the numeric job id, e.g. 2001')
    .positive('should be the numeric job id, e.g. 2001'),
  /** The approval task's key; its approval tag is named after it (reference §3.3). */
  approvalTask: taskKeySchema.default('approval'),
  /** The task whose output holds the evaluation metrics shown to approvers. */
  evaluationTask: taskKeySchema.default('evaluation'),
  /** The gate approvers come from (default: production, as the job deploys the version). */
  gate: z
    .string()
    .regex(GATE_NAME, 'should be the name of a gate under `gates`, e.g. production')
    .default('production'),
});
export type DeploymentJobEntry = z.infer<typeof deploymentJobSchema>;

export const deploymentJobsSchema = z.record(z.string(), deploymentJobSchema).check((ctx) => {
  for (const [name, entry] of Object.entries(ctx.value)) {
    if (!MODEL_NAME.test(name)) {
      ctx.issues.push({
        code: 'custom',
        input: name,
        path: [name],
        message: `"${name}" is not a model name`,
        params: {
          fix: 'key each entry by the model: churn_model, mlops.churn_model or acme.mlops.churn_model',
        },
      });
    }
    if (entry.approvalTask === entry.evaluationTask) {
      ctx.issues.push({
        code: 'custom',
        input: entry.approvalTask,
        path: [name, 'evaluationTask'],
        message: `names the same task as approvalTask (${entry.approvalTask})`,
        params: { fix: 'give the evaluation task’s own key, e.g. evaluation' },
      });
    }
  }
});

/**
 * Problems of deploymentJobs against the rest of the policy: each entry's gate must exist (else
 * nobody could approve its runs).
 *
 * @example deploymentJobProblems({ deploymentJobs: { churn_model: { gate: 'prod', … } }, gates: {} })
 * // [{ path: ['deploymentJobs', 'churn_model', 'gate'], message: 'names gate "prod", which the policy does not have', fix: … }]
 */
export function deploymentJobProblems(policy: {
  deploymentJobs?: Record<string, DeploymentJobEntry> | undefined;
  gates?: Record<string, unknown> | undefined;
}): Array<{ path: PropertyKey[]; message: string; fix: string }> {
  const gates = Object.keys(policy.gates ?? {});
  return Object.entries(policy.deploymentJobs ?? {})
    .filter(([, e]) => !gates.includes(e.gate))
    .map(([name, e]) => ({
      path: ['deploymentJobs', name, 'gate'],
      message: `names gate "${e.gate}", which the policy does not have, so nobody could approve its runs`,
      fix:
        gates.length > 0 ? `use one of ${gates.join(', ')}, or add gates.${e.gate}` : `add gates.${e.gate}`,
    }));
}
