/**
 * Approving a deployment-job run from Slack (reference databricks-round2 §3.3–3.5), once the
 * approvals' gate let it through: set the version's approval tag, then repair the run's approval
 * task (and what follows it), then follow the run to its end. Each step is claimed in the store
 * first (compare-and-set) and Databricks is read before acting, so neither the tag nor the repair
 * happens twice, after a duplicate click or a take-over after a crash. Something done outside the
 * bot meanwhile (the tag set, a repair, the run no longer waiting) supersedes the request.
 */
import type { DeploymentApprover } from '../approvals/contracts.js';
import type { ExecutionResult } from '../approvals/execution-result.js';
import type { DeploymentApprovalPlan } from '../approvals/request-plan.js';
import { shortModel } from '../changes/describe.js';
import { isFinished, succeeded } from '../domain/job-runs.js';
import type { DeploymentJobs, DeploymentRun, ModelVersionTags } from '../domain/ports/deployment-jobs.js';
import { jobRunUrl } from '../domain/workspace-links.js';
import type { Clock } from '../lib/clock.js';
import { poll } from '../lib/poll.js';
import type { DeploymentApprovalStore } from './store.js';
import { approves, latestRepairOf, waitingAtApproval } from './waiting.js';

/** The tag value the approval task accepts (any case). */
export const APPROVED = 'Approved';

export interface DeploymentApproverDeps {
  jobs: DeploymentJobs;
  tags: ModelVersionTags;
  store: DeploymentApprovalStore;
  clock: Clock;
  workspaceHost: string;
  /** How the repaired run is followed (defaults: 2 s doubling to 30 s, 6 h). */
  wait?: { initialDelayMs?: number; maxDelayMs?: number; backoffFactor?: number; timeoutMs?: number };
}

/**
 * @example const approver = createDeploymentApprover({ jobs, tags, store, clock, workspaceHost });
 */
export function createDeploymentApprover(deps: DeploymentApproverDeps): DeploymentApprover {
  const { jobs, tags, store, clock, workspaceHost } = deps;
  const wait = {
    initialDelayMs: deps.wait?.initialDelayMs ?? 2_000,
    maxDelayMs: deps.wait?.maxDelayMs ?? 30_000,
    factor: deps.wait?.backoffFactor ?? 2,
    timeoutMs: deps.wait?.timeoutMs ?? 6 * 3_600_000,
  };

  /** What was done outside the bot, read from Databricks; undefined while the run waits as asked. */
  async function staleness(plan: DeploymentApprovalPlan): Promise<string | undefined> {
    const now = await tags.getTags(plan.model, plan.version);
    const value = now[plan.approvalTask];
    if (approves(value)) {
      return `${shortModel(plan.model)} v${plan.version} was approved outside modelgate (its tag ${plan.approvalTask} is ${value})`;
    }
    return runChanged(plan, await jobs.getRun(plan.runId));
  }

  function runChanged(plan: DeploymentApprovalPlan, run: DeploymentRun): string | undefined {
    const latest = latestRepairOf(run);
    if (latest !== plan.latestRepairId) {
      return `run ${plan.runId} was repaired outside modelgate (repair ${latest})`;
    }
    if (!waitingAtApproval(run, plan.approvalTask)) {
      return `run ${plan.runId} is no longer waiting at ${plan.approvalTask} (it is ${run.state})`;
    }
    return undefined;
  }

  /** Sets the tag unless the version has it already; the store's claim makes this attempt the one. */
  async function setTagOnce(requestId: string, plan: DeploymentApprovalPlan): Promise<void> {
    const current = await tags.getTags(plan.model, plan.version);
    if (!approves(current[plan.approvalTask])) {
      await tags.setTag(plan.model, plan.version, plan.approvalTask, APPROVED);
    }
    await store.tagSet(requestId);
  }

  /** Repairs the run once: the repair an earlier attempt made (seen in the history) counts. */
  async function repairOnce(
    requestId: string,
    plan: DeploymentApprovalPlan,
  ): Promise<number | { superseded: string }> {
    let record = await store.byRequest(requestId);
    if (record?.repair === 'repaired' && record.repairId !== undefined) return record.repairId;
    const fresh = await store.claimRepair(requestId);
    record = await store.byRequest(requestId);
    const run = await jobs.getRun(plan.runId);
    const latest = latestRepairOf(run);
    if (latest !== plan.latestRepairId) {
      // A repair newer than the request's: ours when an earlier attempt claimed it and died.
      if (fresh) return { superseded: `run ${plan.runId} was repaired outside modelgate (repair ${latest})` };
      await store.repaired(requestId, latest!);
      return latest!;
    }
    if (!fresh && record?.repair === 'repaired' && record.repairId !== undefined) return record.repairId;
    const repairId = await jobs.repairRun(plan.runId, [plan.approvalTask], latest);
    await store.repaired(requestId, repairId);
    return repairId;
  }

  return {
    staleness,

    async execute(requestId, plan, io) {
      let record = await store.byRequest(requestId);
      if (!record) {
        // The tick died between the request and tying it to the run: tie it now.
        await store.note({ jobId: plan.jobId, runId: plan.runId, model: plan.model, version: plan.version });
        await store.attachRequest(plan.jobId, plan.runId, requestId);
        record = await store.byRequest(requestId);
      }
      if (record?.tag === 'none') {
        // The last look before anything is sent: approved or repaired outside the bot meanwhile?
        const what = await staleness(plan);
        if (what) return { superseded: what };
        await store.claimTag(requestId);
        record = await store.byRequest(requestId);
      }
      if (record?.tag === 'setting') await setTagOnce(requestId, plan);
      const repaired = await repairOnce(requestId, plan);
      if (typeof repaired !== 'number') return repaired;
      io.onProgress({ kind: 'repair', runId: plan.runId, repairId: repaired });
      return follow(plan, repaired, io.signal);
    },
  };

  async function follow(
    plan: DeploymentApprovalPlan,
    repairId: number,
    signal: AbortSignal,
  ): Promise<ExecutionResult> {
    const started = clock.now();
    const followed = await poll<DeploymentRun, DeploymentRun>(
      async () => {
        const run = await jobs.getRun(plan.runId);
        // Until the history shows the repair, the run read may be the one before it.
        const current = run.repairs.some((h) => h.id === repairId);
        return current && isFinished({ ...run, taskRunIds: [] })
          ? { done: true, value: run }
          : { done: false, seen: run };
      },
      { clock, signal, ...wait },
    );
    const runFacts = (run: DeploymentRun) => ({
      runId: plan.runId,
      url: jobRunUrl(workspaceHost, {
        jobId: plan.jobId,
        runId: plan.runId,
        ...(run.pageUrl ? { pageUrl: run.pageUrl } : {}),
      }),
      jobName: plan.jobName,
    });
    if (followed.status === 'timed_out') {
      return {
        kind: 'run_unfollowed',
        ok: false,
        run: runFacts(followed.seen),
        afterMs: wait.timeoutMs,
        state: followed.seen.state,
      };
    }
    const run = followed.value;
    const ok = succeeded({ ...run, taskRunIds: [] });
    return {
      kind: 'deployment',
      ok,
      run: runFacts(run),
      model: plan.model,
      version: plan.version,
      tag: plan.approvalTask,
      repairId,
      tookMs: Math.max(0, clock.now() - started),
      ...(ok ? {} : { state: run.state }),
      ...(!ok && run.result
        ? {
            result: { code: run.result.code, ...(run.result.message ? { message: run.result.message } : {}) },
          }
        : {}),
    };
  }
}
