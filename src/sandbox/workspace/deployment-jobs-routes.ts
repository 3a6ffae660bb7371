/**
 * MLflow 3 deployment jobs on the twin (reference databricks-round2 §3): a job whose tasks run in
 * order (evaluation → approval → deployment), started when a version of its model is registered
 * (or by `startDeploymentRun`, the sandbox's knob). The approval task fails unless the version
 * carries the tag named after it with the value Approved (any case), so the deployment task ends
 * UPSTREAM_FAILED; `runs/repair` reruns named tasks and those after them, and keeps the repair
 * history (`latest_repair_id` required from the second repair on). Also the UC model-version tag
 * routes. Like the other runs, nothing runs in the background: task results are settled against
 * the clock when read.
 */
import type { TwinContext } from './context.js';
import { fail, type Router } from './router.js';
import type { DeploymentRunState, DeploymentTaskRunState, Job, RegisteredModel } from './state.js';

const BASE = '/api/2.2/jobs';
const TAGS = '/api/2.0/mlflow/unity-catalog/model-versions';

/** What starting tasks needs of the twin (the demo seed starts runs before the twin exists). */
type RunStarter = Pick<TwinContext, 'state' | 'jobRunMs'> & { clock: { now(): number } };

const taskMs = (ctx: RunStarter, job: Job | undefined) => job?.deployment?.task_ms ?? ctx.jobRunMs;

/** Schedules tasks `keys` one after the other from `start`, as attempt `attempt`. */
function schedule(ctx: RunStarter, run: DeploymentRunState, keys: string[], attempt: number, start: number) {
  const ms = taskMs(ctx, ctx.state.jobs.get(run.job_id));
  keys.forEach((task_key, i) => {
    run.task_runs.push({
      task_key,
      run_id: ++ctx.state.counters.run,
      attempt,
      start: start + i * ms,
      end: start + (i + 1) * ms,
    });
  });
}

/**
 * Starts a run of a deployment job for a model version (the twin's trigger, and the sandbox's
 * knob). Returns the run id.
 *
 * @example startDeploymentRun(ctx, 2001, 'acme.mlops.churn_model', 5)
 */
export function startDeploymentRun(
  ctx: RunStarter,
  jobId: number,
  model: string,
  version: number,
  at = ctx.clock.now(),
): number {
  const job = ctx.state.jobs.get(jobId);
  if (!job?.deployment) throw new Error(`job ${jobId} is not a deployment job`);
  const run_id = ++ctx.state.counters.run;
  const run: DeploymentRunState = {
    run_id,
    job_id: jobId,
    number_in_job: [...ctx.state.deployment_runs.values()].filter((r) => r.job_id === jobId).length + 1,
    created_at: at,
    model_name: model,
    model_version: String(version),
    attempts: [{ id: run_id, type: 'ORIGINAL', start_time: at }],
    task_runs: [],
  };
  schedule(ctx, run, job.deployment.tasks, 0, at);
  ctx.state.deployment_runs.set(run_id, run);
  return run_id;
}

/** A new version of a model linked to a deployment job triggers a run (called when one registers). */
export function triggerDeploymentJob(
  ctx: TwinContext,
  model: RegisteredModel,
  version: number,
  at: number,
): void {
  const jobId = model.deployment_job_id;
  if (jobId === undefined || !ctx.state.jobs.get(jobId)?.deployment) return;
  startDeploymentRun(ctx, jobId, `${model.catalog_name}.${model.schema_name}.${model.name}`, version, at);
}

const approves = (v: string | undefined) => v?.trim().toLowerCase() === 'approved';

function versionOf(ctx: TwinContext, run: DeploymentRunState) {
  return ctx.state.models.get(run.model_name.toLowerCase())?.versions.get(Number(run.model_version));
}

/** Fixes the result of every task run that has ended, in order, against the tags as they are now. */
function settle(ctx: TwinContext, run: DeploymentRunState): void {
  const job = ctx.state.jobs.get(run.job_id);
  const now = ctx.clock.now();
  for (const t of run.task_runs) {
    if (t.result !== undefined || t.end > now) continue;
    const before = run.task_runs.filter((o) => o.attempt === t.attempt && o.start < t.start);
    if (before.some((o) => o.result !== 'SUCCESS')) {
      t.result = 'UPSTREAM_FAILED';
      continue;
    }
    if (t.task_key === job?.deployment?.approval_task) {
      const ok = approves(versionOf(ctx, run)?.tags?.[t.task_key]);
      t.result = ok ? 'SUCCESS' : 'FAILED';
      if (!ok) t.message = 'Exception: Model version not approved for deployment';
    } else {
      t.result = 'SUCCESS';
    }
  }
}

/** Settles every deployment run (before a tag changes, so results already due keep the old tags). */
function settleAll(ctx: TwinContext): void {
  for (const run of ctx.state.deployment_runs.values()) settle(ctx, run);
}

/** The latest task run of each task, in the job's order. */
function latestTasks(run: DeploymentRunState): DeploymentTaskRunState[] {
  const latest = new Map<string, DeploymentTaskRunState>();
  for (const t of run.task_runs) latest.set(t.task_key, t);
  return [...latest.values()];
}

function taskStatus(t: DeploymentTaskRunState, now: number) {
  if (now < t.start) return { legacy: { life_cycle_state: 'PENDING' }, status: { state: 'PENDING' } };
  if (t.result === undefined)
    return { legacy: { life_cycle_state: 'RUNNING' }, status: { state: 'RUNNING' } };
  const code = { SUCCESS: 'SUCCESS', FAILED: 'RUN_EXECUTION_ERROR', UPSTREAM_FAILED: 'UPSTREAM_FAILED' }[
    t.result
  ];
  return {
    legacy: { life_cycle_state: 'TERMINATED', result_state: t.result },
    status: {
      state: 'TERMINATED',
      termination_details: {
        type: t.result === 'SUCCESS' ? 'SUCCESS' : 'CLIENT_ERROR',
        code,
        message: t.message ?? '',
      },
    },
  };
}

function runView(ctx: TwinContext, run: DeploymentRunState) {
  settle(ctx, run);
  const now = ctx.clock.now();
  const attempt = run.attempts.length - 1;
  const current = run.task_runs.filter((t) => t.attempt === attempt);
  const running = current.some((t) => t.result === undefined);
  const end = Math.max(...current.map((t) => t.end));
  const failed = latestTasks(run).find((t) => t.result !== 'SUCCESS' && t.result !== 'UPSTREAM_FAILED');
  const ok = latestTasks(run).every((t) => t.result === 'SUCCESS');
  const status = running
    ? { state: 'RUNNING' }
    : {
        state: 'TERMINATED',
        termination_details: ok
          ? { type: 'SUCCESS', code: 'SUCCESS', message: '' }
          : {
              type: 'CLIENT_ERROR',
              code: 'RUN_EXECUTION_ERROR',
              message: `Task ${failed?.task_key ?? 'deployment'} failed with message: ${failed?.message ?? 'an upstream task failed'}`,
            },
      };
  return { running, end: running ? 0 : end, status, now };
}

/** The runs/get (and runs/list) JSON of a deployment run. */
function runJson(ctx: TwinContext, run: DeploymentRunState, history: boolean) {
  const job = ctx.state.jobs.get(run.job_id);
  const view = runView(ctx, run);
  return {
    job_id: run.job_id,
    run_id: run.run_id,
    number_in_job: run.number_in_job,
    creator_user_name: job?.creator_user_name,
    run_name: job?.name,
    run_page_url: `${ctx.baseUrl()}/jobs/${run.job_id}/runs/${run.run_id}`,
    run_type: 'JOB_RUN',
    trigger: 'MODEL',
    start_time: run.created_at,
    end_time: view.end,
    job_parameters: [
      { name: 'model_name', default: '', value: run.model_name },
      { name: 'model_version', default: '', value: run.model_version },
    ],
    state: view.running
      ? { life_cycle_state: 'RUNNING' }
      : {
          life_cycle_state: 'TERMINATED',
          result_state: view.status.termination_details?.code === 'SUCCESS' ? 'SUCCESS' : 'FAILED',
        },
    status: view.status,
    tasks: latestTasks(run).map((t) => {
      const s = taskStatus(t, view.now);
      return {
        task_key: t.task_key,
        run_id: t.run_id,
        attempt_number: t.attempt,
        state: s.legacy,
        status: s.status,
      };
    }),
    ...(history
      ? {
          repair_history: run.attempts.map((a, i) => ({
            id: a.id,
            type: a.type,
            start_time: a.start_time,
            task_run_ids: run.task_runs.filter((t) => t.attempt === i).map((t) => t.run_id),
          })),
        }
      : {}),
  };
}

/**
 * The runs/get answer for a deployment run, or undefined when `rawId` names no deployment run (the
 * jobs routes answer for their own runs).
 */
export function deploymentRunBody(ctx: TwinContext, rawId: unknown, history: boolean): object | undefined {
  const run = ctx.state.deployment_runs.get(Number(rawId));
  return run ? runJson(ctx, run, history) : undefined;
}

/** A job's deployment runs, newest first, as runs/list shows them. */
export function deploymentRunsOf(ctx: TwinContext, jobId: number): object[] {
  return [...ctx.state.deployment_runs.values()]
    .filter((r) => r.job_id === jobId)
    .sort((a, b) => b.run_id - a.run_id)
    .map((r) => runJson(ctx, r, false));
}

function findVersion(ctx: TwinContext, name: unknown, version: unknown) {
  if (typeof name !== 'string' || name === '')
    fail(400, 'INVALID_PARAMETER_VALUE', 'Missing required field: name');
  const model = ctx.state.models.get(name.toLowerCase());
  if (!model) fail(404, 'RESOURCE_DOES_NOT_EXIST', `Registered model '${name}' does not exist.`);
  const v = model.versions.get(Number(version));
  if (!v) fail(404, 'RESOURCE_DOES_NOT_EXIST', `Model version ${version} of '${name}' does not exist.`);
  return { model, v };
}

/** Registers runs/repair, runs/get-output and the model-version tag routes. */
export function registerDeploymentJobRoutes(router: Router, ctx: TwinContext): void {
  router.add('POST', `${BASE}/runs/repair`, (req) => {
    const body = (req.body ?? {}) as {
      run_id?: unknown;
      rerun_tasks?: unknown;
      rerun_dependent_tasks?: unknown;
      latest_repair_id?: unknown;
    };
    const run = ctx.state.deployment_runs.get(Number(body.run_id));
    if (!run) fail(400, 'INVALID_PARAMETER_VALUE', `Run ${String(body.run_id)} does not exist.`);
    const job = ctx.state.jobs.get(run.job_id)!;
    const view = runView(ctx, run);
    if (view.running)
      fail(400, 'INVALID_STATE', `Run ${run.run_id} is still running; it can be repaired once it has ended.`);
    const repairs = run.attempts.filter((a) => a.type === 'REPAIR');
    const latest = repairs.at(-1)?.id;
    if (latest !== undefined && Number(body.latest_repair_id) !== latest) {
      fail(
        400,
        'INVALID_PARAMETER_VALUE',
        body.latest_repair_id === undefined
          ? `Run ${run.run_id} has been repaired before: latest_repair_id is required (the latest is ${latest}).`
          : `latest_repair_id ${String(body.latest_repair_id)} is not the latest repair of run ${run.run_id} (${latest}).`,
      );
    }
    const tasks = job.deployment!.tasks;
    const rerun = Array.isArray(body.rerun_tasks) ? body.rerun_tasks.map(String) : [];
    if (rerun.length === 0) fail(400, 'INVALID_PARAMETER_VALUE', 'rerun_tasks must name at least one task.');
    const unknown = rerun.find((t) => !tasks.includes(t));
    if (unknown) fail(400, 'INVALID_PARAMETER_VALUE', `Task ${unknown} is not a task of job ${job.job_id}.`);
    const first = Math.min(...rerun.map((t) => tasks.indexOf(t)));
    const keys =
      body.rerun_dependent_tasks === true ? tasks.slice(first) : tasks.filter((t) => rerun.includes(t));
    const id = ++ctx.state.counters.run;
    const at = ctx.clock.now();
    run.attempts.push({ id, type: 'REPAIR', start_time: at });
    schedule(ctx, run, keys, run.attempts.length - 1, at);
    return { body: { repair_id: id } };
  });

  router.add('GET', `${BASE}/runs/get-output`, (req) => {
    const id = Number(req.query.get('run_id'));
    for (const run of ctx.state.deployment_runs.values()) {
      const task = run.task_runs.find((t) => t.run_id === id);
      if (!task) continue;
      const job = ctx.state.jobs.get(run.job_id);
      settle(ctx, run);
      const result =
        task.task_key === job?.deployment?.evaluation_task && task.result === 'SUCCESS'
          ? JSON.stringify(job.deployment.metrics)
          : undefined;
      return {
        body: { metadata: { run_id: id }, notebook_output: result ? { result, truncated: false } : {} },
      };
    }
    fail(400, 'INVALID_PARAMETER_VALUE', `Run ${id} does not exist.`);
  });

  router.add('GET', `${TAGS}/get`, (req) => {
    const { model, v } = findVersion(ctx, req.query.get('name'), req.query.get('version'));
    return {
      body: {
        model_version: {
          name: `${model.catalog_name}.${model.schema_name}.${model.name}`,
          version: String(v.version),
          status: v.status,
          creation_timestamp: v.created_at,
          last_updated_timestamp: v.updated_at,
          user_id: v.created_by,
          tags: Object.entries(v.tags ?? {}).map(([key, value]) => ({ key, value })),
          aliases: [...model.aliases.values()]
            .filter((a) => a.version_num === v.version)
            .map((a) => a.alias_name),
        },
      },
    };
  });

  router.add('POST', `${TAGS}/tags`, (req) => {
    const body = (req.body ?? {}) as { name?: unknown; version?: unknown; key?: unknown; value?: unknown };
    if (typeof body.version !== 'string') fail(400, 'INVALID_PARAMETER_VALUE', 'version must be a string.');
    const { v } = findVersion(ctx, body.name, body.version);
    if (typeof body.key !== 'string' || body.key === '')
      fail(400, 'INVALID_PARAMETER_VALUE', 'Missing required field: key');
    settleAll(ctx);
    v.tags = { ...(v.tags ?? {}), [body.key]: String(body.value ?? '') };
    return { body: {} };
  });

  router.add('DELETE', `${TAGS}/tags`, (req) => {
    const { v } = findVersion(ctx, req.query.get('name'), req.query.get('version'));
    settleAll(ctx);
    const key = req.query.get('key') ?? '';
    if (v.tags) delete v.tags[key];
    return { body: {} };
  });
}
