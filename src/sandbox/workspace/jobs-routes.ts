import { createHash } from 'node:crypto';
import type { TwinContext } from './context.js';
import { deploymentRunBody, deploymentRunsOf, triggerDeploymentJob } from './deployment-jobs-routes.js';
import { fail, type Router } from './router.js';
import type { Job, JobRun, WorkspaceState } from './state.js';

/**
 * Jobs API 2.2 (`/api/2.2/jobs`), reference §4. A run is QUEUED for its `queued_ms`, RUNNING for
 * its `run_ms`, then TERMINATED with its job's `next_outcome` as it was at run-now. Nothing runs in
 * the background: a run's phase is worked out from the twin's clock whenever it is read, and a
 * successful run of a job with `registers_model` registers one new READY version when it settles.
 */

const BASE = '/api/2.2/jobs';
/** How long a cancelled RUNNING run stays TERMINATING. */
export const CANCEL_MS = 500;
const MAX_TOKEN = 64;

type Phase = 'QUEUED' | 'RUNNING' | 'TERMINATING' | 'TERMINATED';
type Ending = 'SUCCESS' | 'FAILED' | 'CANCELED_QUEUED' | 'CANCELED_RUNNING';

interface RunView {
  phase: Phase;
  ending?: Ending;
  /** When the run left the queue (0 while queued or when cancelled in the queue). */
  startedAt: number;
  endedAt: number;
}

/** The run's phase at `now`. */
export function viewRun(run: JobRun, now: number): RunView {
  const startsAt = run.created_at + run.queued_ms;
  const endsAt = startsAt + run.run_ms;
  const cancel = run.canceled_at;
  if (cancel !== undefined && cancel < endsAt) {
    if (cancel < startsAt)
      return { phase: 'TERMINATED', ending: 'CANCELED_QUEUED', startedAt: 0, endedAt: cancel };
    const stopsAt = cancel + CANCEL_MS;
    if (now < stopsAt) return { phase: 'TERMINATING', startedAt: startsAt, endedAt: 0 };
    return { phase: 'TERMINATED', ending: 'CANCELED_RUNNING', startedAt: startsAt, endedAt: stopsAt };
  }
  if (now < startsAt) return { phase: 'QUEUED', startedAt: 0, endedAt: 0 };
  if (now < endsAt) return { phase: 'RUNNING', startedAt: startsAt, endedAt: 0 };
  return { phase: 'TERMINATED', ending: run.outcome, startedAt: startsAt, endedAt: endsAt };
}

/** Registers the version a successful run produced, once. */
function settleRun(ctx: TwinContext, run: JobRun): RunView {
  const view = viewRun(run, ctx.clock.now());
  if (view.ending !== 'SUCCESS' || run.registered_version !== undefined) return view;
  const job = ctx.state.jobs.get(run.job_id);
  const model = job?.registers_model ? ctx.state.models.get(job.registers_model.toLowerCase()) : undefined;
  if (!job || !model) return view;
  const version = Math.max(0, ...model.versions.keys()) + 1;
  const reason = run.job_parameters.reason;
  // The training task logs an MLflow run, tagged with the job and its task run, as MLflow does
  // inside a Databricks job; the version points at that MLflow run, not at the job run.
  const mlflowRunId = mlflowRunIdOf(run);
  ctx.state.mlflow_runs.set(mlflowRunId, {
    run_id: mlflowRunId,
    experiment_id: String(job.job_id),
    status: 'FINISHED',
    start_time: view.startedAt,
    end_time: view.endedAt,
    tags: {
      'mlflow.source.type': 'JOB',
      'mlflow.databricks.jobID': String(job.job_id),
      'mlflow.databricks.jobRunID': String(run.task_run_id),
      'mlflow.databricks.jobType': 'NORMAL',
    },
  });
  model.versions.set(version, {
    version,
    status: 'READY',
    source: `dbfs:/databricks/mlflow-tracking/${job.job_id}/${mlflowRunId}/artifacts/model`,
    run_id: mlflowRunId,
    comment: `Retrained by job ${job.name} run ${run.run_id}${reason ? ` (${reason})` : ''}`,
    created_at: view.endedAt,
    created_by: job.creator_user_name,
    updated_at: view.endedAt,
    updated_by: job.creator_user_name,
  });
  model.updated_at = view.endedAt;
  run.registered_version = version;
  // A model linked to a deployment job starts a run of it for the new version.
  triggerDeploymentJob(ctx, model, version, view.endedAt);
  return view;
}

/** A 32-hex MLflow run id, stable for a job run. */
function mlflowRunIdOf(run: JobRun): string {
  return createHash('sha1').update(`mlflow-run:${run.run_id}`).digest('hex').slice(0, 32);
}

/** Settles every run against the clock (registers the versions due); the registry calls it before reads. */
export function settleRuns(ctx: TwinContext): void {
  for (const run of ctx.state.runs.values()) settleRun(ctx, run);
}

function findJob(state: WorkspaceState, raw: unknown): Job {
  const id = Number(raw);
  if (raw === undefined || raw === null || raw === '' || !Number.isSafeInteger(id)) {
    fail(400, 'INVALID_PARAMETER_VALUE', 'Missing required field: job_id');
  }
  const job = state.jobs.get(id);
  if (!job) fail(400, 'INVALID_PARAMETER_VALUE', `Job ${id} does not exist.`);
  return job;
}

function findRun(state: WorkspaceState, raw: unknown): JobRun {
  const id = Number(raw);
  if (raw === undefined || raw === null || raw === '' || !Number.isSafeInteger(id)) {
    fail(400, 'INVALID_PARAMETER_VALUE', 'Missing required field: run_id');
  }
  const run = state.runs.get(id);
  if (!run) fail(400, 'INVALID_PARAMETER_VALUE', `Run ${id} does not exist.`);
  return run;
}

/**
 * A batch-scoring run does its work once, when it ends successfully: the output table is written
 * then, and a failed write fails the run with the writer's message.
 */
async function scoreOnce(ctx: TwinContext, run: JobRun): Promise<RunView> {
  const view = settleRun(ctx, run);
  const job = ctx.state.jobs.get(run.job_id);
  if (!job?.scores_batch || view.ending !== 'SUCCESS' || run.scored) return view;
  run.scored = true;
  const result = ctx.onBatchScore ? await ctx.onBatchScore(run, job) : { ok: true as const, rows: 0 };
  if (!result.ok) {
    run.outcome = 'FAILED';
    run.failure_message = result.message;
  }
  return settleRun(ctx, run);
}

function statusJson(view: RunView, run: JobRun, taskKey: string) {
  const details = {
    SUCCESS: { type: 'SUCCESS', code: 'SUCCESS', message: '' },
    FAILED: {
      type: 'CLIENT_ERROR',
      code: 'RUN_EXECUTION_ERROR',
      message: `Task ${taskKey} failed with message: ${run.failure_message ?? `Workload failed, see run output for details (run ${run.run_id}).`}`,
    },
    CANCELED_QUEUED: { type: 'SUCCESS', code: 'USER_CANCELED', message: 'Run was cancelled while queued.' },
    CANCELED_RUNNING: { type: 'SUCCESS', code: 'USER_CANCELED', message: 'Run was cancelled by a user.' },
  } as const;
  return {
    state: view.phase,
    ...(view.ending ? { termination_details: details[view.ending] } : {}),
    ...(view.phase === 'QUEUED'
      ? {
          queue_details: {
            code: 'MAX_CONCURRENT_RUNS_REACHED',
            message: 'Queued due to reaching maximum concurrent runs of 1.',
          },
        }
      : {}),
  };
}

/** The deprecated `state` object, still returned by Databricks next to `status`. */
function legacyStateJson(view: RunView) {
  const result = {
    SUCCESS: 'SUCCESS',
    FAILED: 'FAILED',
    CANCELED_QUEUED: 'CANCELED',
    CANCELED_RUNNING: 'CANCELED',
  } as const;
  const canceled = view.ending === 'CANCELED_QUEUED' || view.ending === 'CANCELED_RUNNING';
  return {
    life_cycle_state: view.phase,
    ...(view.ending ? { result_state: result[view.ending] } : {}),
    state_message: view.phase === 'QUEUED' ? 'Waiting in the queue' : '',
    user_cancelled_or_timedout: canceled,
    ...(view.phase === 'QUEUED'
      ? { queue_reason: 'Queued due to reaching maximum concurrent runs of 1.' }
      : {}),
  };
}

function runJson(ctx: TwinContext, run: JobRun, view: RunView) {
  const job = ctx.state.jobs.get(run.job_id);
  const queueEnd = view.startedAt || view.endedAt || ctx.clock.now();
  const execution = view.startedAt ? (view.endedAt || ctx.clock.now()) - view.startedAt : 0;
  const taskKey = job?.task_key ?? 'train_model';
  return {
    job_id: run.job_id,
    run_id: run.run_id,
    number_in_job: run.number_in_job,
    original_attempt_run_id: run.run_id,
    attempt_number: 0,
    creator_user_name: job?.creator_user_name,
    run_name: run.run_name,
    run_page_url: `${ctx.baseUrl()}/jobs/${run.job_id}/runs/${run.run_id}`,
    run_type: 'JOB_RUN',
    trigger: 'ONE_TIME',
    start_time: run.created_at,
    end_time: view.endedAt,
    queue_duration: queueEnd - run.created_at,
    setup_duration: 0,
    execution_duration: execution,
    cleanup_duration: 0,
    run_duration: (view.endedAt || ctx.clock.now()) - run.created_at,
    job_parameters: (job?.parameters ?? []).map((p) => ({
      name: p.name,
      default: p.default,
      value: run.job_parameters[p.name] ?? p.default,
    })),
    state: legacyStateJson(view),
    status: statusJson(view, run, taskKey),
    tasks: [
      {
        task_key: taskKey,
        run_id: run.task_run_id,
        state: legacyStateJson(view),
        status: statusJson(view, run, taskKey),
      },
    ],
    has_more: false,
  };
}

function parseParameters(job: Job, raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    fail(400, 'INVALID_PARAMETER_VALUE', 'job_parameters must be an object of name to string value.');
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!job.parameters.some((p) => p.name === name)) {
      fail(400, 'INVALID_PARAMETER_VALUE', `Job parameter '${name}' is not defined in job ${job.job_id}.`);
    }
    if (typeof value !== 'string') {
      fail(400, 'INVALID_PARAMETER_VALUE', `Job parameter '${name}' must be a string.`);
    }
    out[name] = value;
  }
  return out;
}

/** Registers the Jobs 2.2 routes on the twin. */
export function registerJobRoutes(router: Router, ctx: TwinContext): void {
  router.add('GET', `${BASE}/get`, (req) => {
    const job = findJob(ctx.state, req.query.get('job_id'));
    return {
      body: {
        job_id: job.job_id,
        creator_user_name: job.creator_user_name,
        created_time: job.created_time,
        settings: {
          name: job.name,
          parameters: job.parameters,
          queue: { enabled: true },
          max_concurrent_runs: 1,
          ...(job.deployment ? { tasks: job.deployment.tasks.map((task_key) => ({ task_key })) } : {}),
        },
      },
    };
  });

  router.add('POST', `${BASE}/run-now`, (req) => {
    const body = (req.body ?? {}) as {
      job_id?: unknown;
      job_parameters?: unknown;
      idempotency_token?: unknown;
    };
    const job = findJob(ctx.state, body.job_id);
    const token = body.idempotency_token;
    if (token !== undefined && (typeof token !== 'string' || token.length > MAX_TOKEN)) {
      fail(
        400,
        'INVALID_PARAMETER_VALUE',
        `idempotency_token must be a string of at most ${MAX_TOKEN} characters.`,
      );
    }
    if (token) {
      const existing = [...ctx.state.runs.values()].find((r) => r.idempotency_token === token);
      if (existing) return { body: { run_id: existing.run_id, number_in_job: existing.number_in_job } };
    }
    const parameters = parseParameters(job, body.job_parameters);
    const run_id = ++ctx.state.counters.run;
    const task_run_id = ++ctx.state.counters.run;
    const number_in_job = [...ctx.state.runs.values()].filter((r) => r.job_id === job.job_id).length + 1;
    ctx.state.runs.set(run_id, {
      run_id,
      job_id: job.job_id,
      number_in_job,
      run_name: job.name,
      task_run_id,
      created_at: ctx.clock.now(),
      queued_ms: ctx.jobQueueMs,
      run_ms: ctx.jobRunMs,
      outcome: job.next_outcome,
      job_parameters: parameters,
      ...(token ? { idempotency_token: token } : {}),
    });
    return { body: { run_id, number_in_job } };
  });

  router.add('GET', `${BASE}/runs/list`, (req) => {
    const job = findJob(ctx.state, req.query.get('job_id'));
    const limit = Math.min(25, Math.max(1, Number(req.query.get('limit') ?? 20) || 20));
    const own = [...ctx.state.runs.values()]
      .filter((r) => r.job_id === job.job_id)
      .map((r) => runJson(ctx, r, settleRun(ctx, r)));
    const all = [...deploymentRunsOf(ctx, job.job_id), ...own].sort(
      (a, b) => (b as { run_id: number }).run_id - (a as { run_id: number }).run_id,
    );
    return { body: { runs: all.slice(0, limit), has_more: all.length > limit } };
  });

  router.add('GET', `${BASE}/runs/get`, async (req) => {
    const deployment = deploymentRunBody(
      ctx,
      req.query.get('run_id'),
      req.query.get('include_history') === 'true',
    );
    if (deployment) return { body: deployment };
    const run = findRun(ctx.state, req.query.get('run_id'));
    return { body: runJson(ctx, run, await scoreOnce(ctx, run)) };
  });

  router.add('POST', `${BASE}/runs/cancel`, (req) => {
    const run = findRun(ctx.state, (req.body as { run_id?: unknown } | undefined)?.run_id);
    const view = settleRun(ctx, run);
    // Cancelling a finished or already cancelled run changes nothing.
    if (view.phase !== 'TERMINATED' && run.canceled_at === undefined) run.canceled_at = ctx.clock.now();
    return { body: {} };
  });
}
