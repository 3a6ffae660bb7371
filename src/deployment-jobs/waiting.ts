/**
 * Pure rules of deployment-job approvals: when a run waits at its approval task, when a version
 * counts as approved, and what a tick does with the runs it read (reference databricks-round2 §3.3:
 * the approval task fails until the version carries the tag `<approval task key>` = Approved, any
 * case; there is no "waiting" run state).
 */
import type { DeploymentApprovalPlan } from '../approvals/request-plan.js';
import type { DeploymentRun } from '../domain/ports/deployment-jobs.js';

/** True when the value of the approval tag approves (case-insensitive `approved`). */
export const approves = (value: string | undefined): boolean => value?.trim().toLowerCase() === 'approved';

/**
 * True when the run has ended and its approval task did not succeed (failed, or blocked).
 *
 * @example waitingAtApproval(run, 'approval') // true for a run whose approval task raised
 */
export function waitingAtApproval(run: DeploymentRun, approvalTask: string): boolean {
  if (run.state !== 'TERMINATED') return false;
  const task = run.tasks.find((t) => t.key === approvalTask);
  if (!task) return false;
  if (task.state === 'BLOCKED') return true;
  return task.state === 'TERMINATED' && task.code !== undefined && task.code !== 'SUCCESS';
}

/** The last repair of a run, if it has been repaired (the original attempt is no repair). */
export const latestRepairOf = (run: DeploymentRun): number | undefined =>
  run.repairs.filter((h) => h.type !== 'ORIGINAL').at(-1)?.id;

/** The model and version a deployment-job run is for (its job parameters), when it says. */
export function subjectOf(run: DeploymentRun): { model: string; version: number } | undefined {
  const model = run.parameters.model_name;
  const version = Number(run.parameters.model_version);
  if (!model || !Number.isSafeInteger(version) || version < 1) return undefined;
  return { model, version };
}

/** What one tick does for one job. */
export interface TickDecision {
  /** Runs waiting at approval with no request yet (each still needs its tag read). */
  candidates: Array<{ run: DeploymentRun; version: number }>;
  /** Pending requests whose run moved on outside the bot, with what changed. */
  stale: Array<{ requestId: string; what: string }>;
}

/**
 * Decides a tick for one job from the runs it listed: which waiting runs of `model` need a
 * request, and which pending requests went stale (their run is running again, ended otherwise, or
 * its approval task ran again).
 *
 * @example decideTick({ model, approvalTask: 'approval', runs, asked: new Set(), pending: [] })
 * // { candidates: [{ run, version: 5 }], stale: [] }
 */
export function decideTick(input: {
  model: string;
  approvalTask: string;
  runs: readonly DeploymentRun[];
  /** Run ids the bot already asked about. */
  asked: ReadonlySet<number>;
  pending: ReadonlyArray<{ requestId: string; plan: DeploymentApprovalPlan }>;
}): TickDecision {
  const candidates: TickDecision['candidates'] = [];
  for (const run of input.runs) {
    const subject = subjectOf(run);
    if (!subject || subject.model.toLowerCase() !== input.model.toLowerCase()) continue;
    if (input.asked.has(run.runId) || !waitingAtApproval(run, input.approvalTask)) continue;
    candidates.push({ run, version: subject.version });
  }
  const stale: TickDecision['stale'] = [];
  for (const p of input.pending) {
    const run = input.runs.find((r) => r.runId === p.plan.runId);
    if (!run) continue; // out of the listed page: the deciding click checks it
    const what = runMovedOn(run, p.plan);
    if (what) stale.push({ requestId: p.requestId, what });
  }
  return { candidates, stale };
}

/**
 * What happened to a request's run outside the bot, in a few words; undefined while it waits as
 * it did. Reads only what runs/list gives (no repair history): a new approval task run means a
 * repair.
 */
export function runMovedOn(run: DeploymentRun, plan: DeploymentApprovalPlan): string | undefined {
  const task = run.tasks.find((t) => t.key === plan.approvalTask);
  if (plan.approvalTaskRunId !== undefined && task && task.runId !== plan.approvalTaskRunId) {
    return `run ${plan.runId} was repaired outside modelgate (task ${plan.approvalTask} ran again)`;
  }
  if (!waitingAtApproval(run, plan.approvalTask)) {
    return `run ${plan.runId} is no longer waiting at ${plan.approvalTask} (it is ${run.state}${run.result ? `, ${run.result.code}` : ''})`;
  }
  return undefined;
}
