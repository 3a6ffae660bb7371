/**
 * The scheduled check of deployment jobs: read (one runs/list per linked job; its tasks once), decide (pure,
 * waiting.ts), deliver (one approval request per waiting run; stale pending requests superseded).
 * A job whose reads fail is skipped for a doubling number of ticks (up to 32), so a broken job
 * costs nothing while the others go on.
 */
import type { ApprovalService } from '../approvals/contracts.js';
import type { DeploymentApprovalPlan } from '../approvals/request-plan.js';
import type { DeploymentJobEntry } from '../config/policy-deployment-jobs.js';
import { UserError } from '../domain/errors.js';
import { resolveModelName } from '../domain/model-names.js';
import type { DeploymentJobs, DeploymentRun, ModelVersionTags } from '../domain/ports/deployment-jobs.js';
import { jobRunUrl } from '../domain/workspace-links.js';
import type { DeploymentApprovalStore } from './store.js';
import { approves, decideTick, latestRepairOf } from './waiting.js';

/** How many runs of a job one tick reads (one page of runs/list). */
export const RUNS_PER_TICK = 25;
const MAX_SKIPPED_TICKS = 32;

/** A model's deployment job, with the model's full name. */
export interface LinkedJob extends DeploymentJobEntry {
  model: string;
}

/**
 * The policy's deployment jobs with full model names.
 *
 * @example linkedJobs(policy) // [{ model: 'acme.mlops.churn_model', job: 2001, approvalTask: 'approval', … }]
 */
export function linkedJobs(policy: {
  defaults: { catalog: string; schema: string };
  deploymentJobs?: Record<string, DeploymentJobEntry> | undefined;
}): LinkedJob[] {
  return Object.entries(policy.deploymentJobs ?? {}).map(([name, e]) => ({
    ...e,
    model: resolveModelName(name, policy.defaults),
  }));
}

/**
 * Refuses a job that lacks the task the policy names, with the fix (before anything is sent).
 *
 * @example requireTasks(linked, { jobId: 2001, name: 'churn-deployment', tasks: ['evaluation', 'approve'] }) // throws deployment_task_missing
 */
export function requireTasks(linked: LinkedJob, job: { jobId: number; name: string; tasks: string[] }): void {
  for (const [role, task] of [
    ['approval', linked.approvalTask],
    ['evaluation', linked.evaluationTask],
  ] as const) {
    if (!job.tasks.includes(task)) {
      throw new UserError('deployment_task_missing', {
        model: linked.model,
        jobId: job.jobId,
        jobName: job.name,
        role,
        task,
        tasks: job.tasks,
      });
    }
  }
}

export interface DeploymentCheckDeps {
  linked: readonly LinkedJob[];
  jobs: DeploymentJobs;
  tags: ModelVersionTags;
  store: DeploymentApprovalStore;
  approvals: Pick<ApprovalService, 'requestDeployment' | 'pending' | 'supersede'>;
  workspaceHost: string;
  /** Where requests go when the policy has no approvalChannel. */
  channelId?: string;
  /** Sees each job's failure (a log line); the tick goes on with the next job. */
  report?: (model: string, error: unknown) => void;
}

export interface DeploymentCheckSummary {
  opened: number;
  superseded: number;
  failed: number;
  skipped: number;
}

export interface DeploymentCheck {
  /** One pass over every linked job. Never throws. */
  tick(now: number): Promise<DeploymentCheckSummary>;
}

/**
 * @example const check = createDeploymentCheck({ linked, jobs, tags, store, approvals, workspaceHost }); await check.tick(Date.now());
 */
export function createDeploymentCheck(deps: DeploymentCheckDeps): DeploymentCheck {
  // Per job: ticks left to skip after failures, and how many failed in a row.
  const backoff = new Map<string, { skip: number; failures: number }>();
  const keyOf = (l: LinkedJob) => `${l.job}:${l.model}`;

  // Jobs whose tasks were found as the policy names them (read once per process, and after a failure).
  const checked = new Map<string, string>();

  async function checkJob(linked: LinkedJob, summary: DeploymentCheckSummary): Promise<void> {
    const key = keyOf(linked);
    let jobName = checked.get(key);
    if (jobName === undefined) {
      // A job without the named tasks is refused, with the fix, before anything is sent.
      const job = await deps.jobs.getJob(linked.job);
      requireTasks(linked, job);
      jobName = job.name;
      checked.set(key, jobName);
    }
    const runs = await deps.jobs.listRuns(linked.job, RUNS_PER_TICK);
    const pending = (await deps.approvals.pending()).flatMap((r) =>
      r.plan.kind === 'deployment' && r.plan.jobId === linked.job ? [{ requestId: r.id, plan: r.plan }] : [],
    );
    const asked = new Set<number>();
    for (const run of runs)
      if ((await deps.store.find(linked.job, run.runId))?.requestId) asked.add(run.runId);
    const decision = decideTick({
      model: linked.model,
      approvalTask: linked.approvalTask,
      runs,
      asked,
      pending,
    });
    for (const s of decision.stale) {
      if (await deps.approvals.supersede(s.requestId, s.what)) summary.superseded++;
    }
    for (const { run, version } of decision.candidates) {
      if (await open(linked, jobName, run, version)) summary.opened++;
    }
  }

  async function open(linked: LinkedJob, jobName: string, listed: DeploymentRun, version: number) {
    const tags = await deps.tags.getTags(linked.model, version);
    // Approved already (outside the bot): the run is someone else's to repair.
    if (approves(tags[linked.approvalTask])) return false;
    await deps.store.note({ jobId: linked.job, runId: listed.runId, model: linked.model, version });
    const run = await deps.jobs.getRun(listed.runId);
    const evaluation = run.tasks.find((t) => t.key === linked.evaluationTask);
    const metrics = evaluation ? await deps.jobs.taskMetrics(evaluation.runId) : undefined;
    const approvalTaskRunId = run.tasks.find((t) => t.key === linked.approvalTask)?.runId;
    const latestRepairId = latestRepairOf(run);
    const plan: DeploymentApprovalPlan = {
      kind: 'deployment',
      model: linked.model,
      version,
      jobId: linked.job,
      jobName,
      runId: run.runId,
      runUrl: jobRunUrl(deps.workspaceHost, run),
      approvalTask: linked.approvalTask,
      ...(latestRepairId !== undefined ? { latestRepairId } : {}),
      ...(approvalTaskRunId !== undefined ? { approvalTaskRunId } : {}),
      metrics: Object.entries(metrics ?? {}).map(([key, value]) => ({ key, value })),
    };
    const request = await deps.approvals.requestDeployment({
      plan,
      gate: linked.gate,
      ...(deps.channelId ? { channelId: deps.channelId } : {}),
      // One request per run, whatever happens between here and attaching it.
      triggerId: `deployment-job:${linked.job}:${run.runId}`,
    });
    if (!request) return false;
    return deps.store.attachRequest(linked.job, run.runId, request.id);
  }

  return {
    async tick() {
      const summary: DeploymentCheckSummary = { opened: 0, superseded: 0, failed: 0, skipped: 0 };
      for (const linked of deps.linked) {
        const key = keyOf(linked);
        const b = backoff.get(key);
        if (b && b.skip > 0) {
          b.skip--;
          summary.skipped++;
          continue;
        }
        try {
          await checkJob(linked, summary);
          backoff.delete(key);
        } catch (e) {
          summary.failed++;
          checked.delete(key);
          const failures = (b?.failures ?? 0) + 1;
          backoff.set(key, { failures, skip: Math.min(MAX_SKIPPED_TICKS, 2 ** (failures - 1)) });
          deps.report?.(linked.model, e);
        }
      }
      return summary;
    },
  };
}
