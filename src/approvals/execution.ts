/**
 * Running an approved request, exactly once: a change request runs its steps through the
 * pipeline's `execute`, which resolves with how each ended; a retraining starts its job (the
 * request id as run-now's idempotency token) and follows the run. Every state move is a
 * compare-and-set in the store, and only the holder of the attempt token may finish. After a
 * restart, `resume()` takes each execution over and finishes it.
 */
import { describeFailure } from '../changes/apply.js';
import { changeTitle } from '../changes/describe.js';
import type { ChangeOutcome } from '../domain/change.js';
import { isUserError } from '../domain/errors.js';
import { followJobRun, succeeded } from '../domain/job-runs.js';
import type { JobRun } from '../domain/ports/jobs.js';
import { jobRunUrl } from '../domain/workspace-links.js';
import type { ApprovalContext } from './context.js';
import type { ApprovalResumeSummary } from './contracts.js';
import type { ExecutionResult } from './execution-result.js';
import { findRegisteredVersion } from './registered-version.js';
import type { ChangeApprovalPlan, DeploymentApprovalPlan, RetrainApprovalPlan } from './request-plan.js';
import type { ApprovalRequest } from './store.js';

export interface Execution {
  /** Runs a request this process just approved (nothing when another caller started it). */
  start(requestId: string, actor: string): Promise<void>;
  /**
   * Starts what was approved but not started, and takes over executions whose owner let go or
   * died (a live owner's lease is left alone). `approvedBefore`: only requests approved before
   * then (a periodic take-over leaves the ones a click is starting right now).
   */
  resume(summary: ApprovalResumeSummary, options?: { approvedBefore?: number }): Promise<void>;
}

/** Ends the execution without finishing the request: it was superseded, or the attempt was lost. */
type Interrupted = 'superseded' | 'lost';

/** @example const execution = createExecution(ctx); background.track(() => execution.start(id, 'U0APPROVE')); */
export function createExecution(ctx: ApprovalContext): Execution {
  const { deps, approvals, message, background } = ctx;
  const { views, clock, workspaceHost } = deps;
  const wait = {
    initialDelayMs: deps.wait?.initialDelayMs ?? 2_000,
    maxDelayMs: deps.wait?.maxDelayMs ?? 30_000,
    factor: deps.wait?.backoffFactor ?? 2,
    timeoutMs: deps.wait?.timeoutMs ?? 6 * 3_600_000,
  };

  async function start(requestId: string, actor: string): Promise<void> {
    const started = await approvals.startExecution(requestId, actor);
    if (!started) return; // another caller started it
    await run(started.request, started.attempt);
  }

  async function run(r: ApprovalRequest, attempt: string): Promise<void> {
    let result: ExecutionResult | Interrupted;
    try {
      result =
        r.plan.kind === 'retrain'
          ? await runRetrain(r, r.plan, attempt)
          : r.plan.kind === 'deployment'
            ? await runDeployment(r, r.plan)
            : await runChange(r, r.plan);
    } catch (e) {
      if (background.signal.aborted) {
        // Stays executing, let go of: the next process takes it over without waiting out the lease.
        try {
          await approvals.release(r.id, attempt);
        } catch {
          // The connection closed first: the lease runs out instead.
        }
        return;
      }
      const text = describeFailure(e, views.describeError);
      result = text
        ? { kind: 'refused', ok: false, reason: text.reason, ...(text.hint ? { hint: text.hint } : {}) }
        : { kind: 'internal', ok: false, correlationId: background.report(e) };
    }
    message.setProgress(r.id, undefined);
    if (result === 'superseded' || result === 'lost') return;
    const applied = await approvals.finish(r.id, attempt, result, r.decidedBy ?? r.requester);
    if (applied.decision.kind !== 'moved') {
      await approvals.noteLost(r.id, attempt, 'it ran to its end but could not record how it ended', result);
      return;
    }
    await message.refresh(r.id);
    await message.tell(applied.request ?? r, views.notices.finished(r, result));
  }

  /** Runs each step through the pipeline, in order, and stops at the first that does not succeed. */
  async function runChange(
    r: ApprovalRequest,
    plan: ChangeApprovalPlan,
  ): Promise<ExecutionResult | Interrupted> {
    const channel = r.message?.channel ?? r.channel;
    const actor = { userId: r.decidedBy ?? r.requester };
    const done: string[] = [];
    for (const [i, step] of plan.steps.entries()) {
      const title = changeTitle(step.plan);
      // The trigger id is unique: a second run (a restart) finds the first one's change.
      const { change } = await deps.store.createProposal({
        requester: r.requester,
        channel,
        input: step.input,
        plan: step.plan,
        triggerId: `approval:${r.id}:${i}`,
        actor: actor.userId,
      });
      if (change.status === 'proposed') {
        message.setProgress(
          r.id,
          views.progress({ kind: 'step', step: i + 1, of: plan.steps.length, title }),
        );
        void message.refresh(r.id);
      }
      const outcome: ChangeOutcome = await deps.pipeline.execute(change.id, actor);
      switch (outcome.status) {
        case 'succeeded':
          done.push(outcome.summary ?? `${title} done.`);
          continue;
        case 'stale': {
          // A fresh proposal was made to show; nobody will, so it is withdrawn.
          if (outcome.replacedBy) await deps.store.transition(outcome.replacedBy, 'proposed', 'cancelled');
          const what = outcome.what ?? 'the target changed since the request was made';
          if (i === 0) {
            await approvals.supersede(r.id, what, 'modelgate');
            await message.refresh(r.id);
            return 'superseded';
          }
          return { kind: 'step_failed', ok: false, done, failed: { title, status: 'stale', detail: what } };
        }
        case 'not_started': {
          if (outcome.why === 'unknown') throw new Error(`pipeline change ${change.id} vanished`);
          const h = outcome.holder;
          const holder = h
            ? {
                id: h.id,
                plan: h.plan,
                requester: h.requester,
                ...(h.appliedBy !== undefined ? { appliedBy: h.appliedBy } : {}),
                ...(h.appliedAt !== undefined ? { appliedAt: h.appliedAt } : {}),
              }
            : undefined;
          return {
            kind: 'step_failed',
            ok: false,
            done: [],
            failed: { title, status: 'busy', ...(holder ? { holder } : {}) },
          };
        }
        default:
          return {
            kind: 'step_failed',
            ok: false,
            done,
            failed: { title, status: outcome.status, ...(outcome.reason ? { detail: outcome.reason } : {}) },
          };
      }
    }
    return { kind: 'changes', ok: true, done };
  }

  /** Starts the job once (or finds the run a previous attempt started) and follows it. */
  async function runRetrain(
    r: ApprovalRequest,
    plan: RetrainApprovalPlan,
    attempt: string,
  ): Promise<ExecutionResult | Interrupted> {
    let runId = r.runId;
    if (runId === undefined) {
      // The request id as idempotency token: a repeat (a retry, a restart) returns the same run.
      const started = await deps.jobs.runNow(plan.jobId, {
        idempotencyToken: r.id,
        parameters: plan.parameters,
      });
      runId = started.runId;
      if (!(await approvals.recordRun(r.id, attempt, runId))) {
        await approvals.noteLost(r.id, attempt, `it had started job ${plan.jobId} run ${runId}`);
        return 'lost';
      }
      message.setProgress(r.id, views.progress({ kind: 'run', runId }));
      await message.refresh(r.id);
    }
    const id = runId;
    const followed = await followJobRun(deps.jobs, id, { clock, signal: background.signal, ...wait });
    if (followed.status === 'timed_out') {
      const seen = followed.seen;
      return {
        kind: 'run_unfollowed',
        ok: false,
        run: { runId: id, url: jobRunUrl(workspaceHost, seen), jobName: plan.jobName },
        afterMs: wait.timeoutMs,
        state: seen.state,
      };
    }
    const run = followed.run;
    const facts = {
      kind: 'run' as const,
      run: { runId: run.runId, url: jobRunUrl(workspaceHost, run), jobName: plan.jobName },
      ...(run.startedAt && run.endedAt ? { tookMs: run.endedAt.getTime() - run.startedAt.getTime() } : {}),
    };
    if (!succeeded(run)) {
      return {
        ...facts,
        ok: false,
        state: run.state,
        ...(run.result
          ? {
              result: {
                code: run.result.code,
                ...(run.result.message ? { message: run.result.message } : {}),
              },
            }
          : {}),
      };
    }
    return { ...facts, ok: true, registered: await registeredBy(plan, run) };
  }

  /** A deployment-job run: the deployment part sets the tag once, repairs and follows the run. */
  async function runDeployment(
    r: ApprovalRequest,
    plan: DeploymentApprovalPlan,
  ): Promise<ExecutionResult | Interrupted> {
    if (!deps.deployments) throw new Error('a deployment-job request without the deployment part wired');
    const outcome = await deps.deployments.execute(r.id, plan, {
      signal: background.signal,
      onProgress: (p) => {
        message.setProgress(r.id, views.progress(p));
        void message.refresh(r.id);
      },
    });
    if ('superseded' in outcome) {
      // Approved or repaired outside the bot meanwhile: nothing was sent, and the card says so.
      await approvals.supersede(r.id, outcome.superseded, 'modelgate');
      await message.refresh(r.id);
      return 'superseded';
    }
    return outcome;
  }

  async function registeredBy(plan: RetrainApprovalPlan, run: JobRun) {
    try {
      const found = await findRegisteredVersion(deps, plan.model, run);
      const v = found?.version;
      if (!v) return { found: 'none' as const, model: plan.model };
      return {
        found: 'version' as const,
        model: plan.model,
        version: v.version,
        aliases: v.aliases,
        confirmed: found.confirmed,
      };
    } catch (e) {
      if (!isUserError(e) && !describeFailure(e, views.describeError)) background.report(e);
      return { found: 'unknown' as const };
    }
  }

  return {
    start,

    async resume(summary, options = {}) {
      const { approvedBefore } = options;
      for (const r of await approvals.inFlight()) {
        if (r.status === 'approved') {
          if (approvedBefore !== undefined && (r.decidedAt ?? r.updatedAt) >= approvedBefore) continue;
          summary.started++;
          message.setProgress(r.id, views.progress({ kind: 'restarted' }));
          background.track(() => start(r.id, r.decidedBy ?? r.requester));
        } else {
          const taken = await approvals.takeOver(r.id, r.attempt);
          if (!taken) continue;
          summary.resumed++;
          message.setProgress(r.id, views.progress({ kind: 'resumed' }));
          background.track(() => run(taken.request, taken.attempt));
        }
      }
    },
  };
}
