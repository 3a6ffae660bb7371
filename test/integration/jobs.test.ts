import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findRegisteredVersion } from '../../src/approvals/registered-version.js';
import { staticTokenProvider } from '../../src/databricks/auth.js';
import { createDatabricksHttp, DatabricksApiError } from '../../src/databricks/http.js';
import { createJobsClient } from '../../src/databricks/jobs.js';
import { createMlflowRuns } from '../../src/databricks/mlflow.js';
import { createRegistryClient } from '../../src/databricks/registry.js';
import { isFinished, JOB_ID_TAG, JOB_RUN_ID_TAG, succeeded } from '../../src/domain/job-runs.js';
import type { Jobs } from '../../src/domain/ports/jobs.js';
import { jobRunUrl } from '../../src/domain/workspace-links.js';
import { simulatedClock } from '../../src/lib/clock.js';
import { DEMO, seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { describeError } from '../../src/slack/blocks/errors.js';
import { userError } from '../support/errors.js';
import { startTwinWithClient } from '../support/workspace.js';

const RUN_NOW = 'POST /api/2.2/jobs/run-now';
const QUEUE_MS = 1_000;
const RUN_MS = 3_000;

let clock: ReturnType<typeof simulatedClock>;
let env: Awaited<ReturnType<typeof startTwinWithClient>>;
let jobs: Jobs;

beforeEach(async () => {
  clock = simulatedClock(Date.parse('2026-03-02T09:00:00Z'));
  env = await startTwinWithClient(
    { clock, state: seedDemoWorkspace({ now: clock.now() }), jobQueueMs: QUEUE_MS, jobRunMs: RUN_MS },
    { clock },
  );
  jobs = createJobsClient(env.http);
});
afterEach(() => env.twin.stop());

const runNowRequests = () => env.twin.requests.filter((r) => r.route === RUN_NOW);

describe('starting a run', () => {
  it('starts a run with the given job parameters, the others taking their defaults', async () => {
    const { runId, numberInJob } = await jobs.runNow(DEMO.jobId, {
      parameters: { reason: 'drift on tenure' },
    });
    expect(numberInJob).toBe(1);
    const run = await jobs.getRun(runId);
    expect(run).toMatchObject({ runId, jobId: DEMO.jobId, runName: DEMO.jobName });
    expect(run.parameters).toEqual({
      model_name: DEMO.model,
      reason: 'drift on tenure',
      all_violations_count: '0',
    });
  });

  it('returns the same run for the same idempotency token', async () => {
    const first = await jobs.runNow(DEMO.jobId, { idempotencyToken: 'req-42' });
    const second = await jobs.runNow(DEMO.jobId, { idempotencyToken: 'req-42' });
    expect(second.runId).toBe(first.runId);
    expect(env.twin.state.runs.size).toBe(1);
  });

  it('retries a run-now with a token after a 503 and starts one run', async () => {
    env.twin.faults.next(RUN_NOW, { kind: 'status', status: 503 });
    const { runId } = await jobs.runNow(DEMO.jobId, { idempotencyToken: 'req-43' });
    expect(runNowRequests().map((r) => r.status)).toEqual([503, 200]);
    expect([...env.twin.state.runs.keys()]).toEqual([runId]);
  });

  it('does not retry a run-now without a token after a 503', async () => {
    env.twin.faults.next(RUN_NOW, { kind: 'status', status: 503 });
    const err = await jobs.runNow(DEMO.jobId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabricksApiError);
    expect(err).toMatchObject({ status: 503, attempts: 1 });
    expect(runNowRequests()).toHaveLength(1);
    expect(env.twin.state.runs.size).toBe(0);
  });

  it('explains a job that does not exist (400 INVALID_PARAMETER_VALUE from the workspace)', async () => {
    const err = await userError(jobs.runNow(123));
    expect(err.code).toBe('job_not_found');
    expect(describeError(err).text).toContain('123');
    expect(describeError(err).hint).toContain('policy file');
  });

  it('refuses an idempotency token longer than 64 characters before calling the workspace', async () => {
    await expect(jobs.runNow(DEMO.jobId, { idempotencyToken: 'x'.repeat(65) })).rejects.toThrow(RangeError);
    expect(runNowRequests()).toHaveLength(0);
  });

  it('has the twin refuse a parameter the job does not define', async () => {
    const err = await jobs.runNow(DEMO.jobId, { parameters: { modle_name: 'x' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, errorCode: 'INVALID_PARAMETER_VALUE' });
  });
});

describe('following a run', () => {
  it('reads the status object through QUEUED, RUNNING and TERMINATED', async () => {
    const { runId } = await jobs.runNow(DEMO.jobId, { idempotencyToken: 'follow-1' });

    const queued = await jobs.getRun(runId);
    expect(queued.state).toBe('QUEUED');
    expect(queued.queue?.code).toBe('MAX_CONCURRENT_RUNS_REACHED');
    expect(queued.result).toBeUndefined();
    expect(queued.pageUrl).toBe(`${env.twin.url}/jobs/${DEMO.jobId}/runs/${runId}`);
    expect(jobRunUrl('https://ignored', queued)).toBe(queued.pageUrl);

    clock.advance(QUEUE_MS);
    const running = await jobs.getRun(runId);
    expect(running.state).toBe('RUNNING');
    expect(running.startedAt).toBeInstanceOf(Date);
    expect(isFinished(running)).toBe(false);

    clock.advance(RUN_MS);
    const done = await jobs.getRun(runId);
    expect(done.state).toBe('TERMINATED');
    expect(done.result).toEqual({ type: 'SUCCESS', code: 'SUCCESS' });
    expect(done.endedAt?.getTime()).toBe(Date.parse('2026-03-02T09:00:00Z') + QUEUE_MS + RUN_MS);
    expect(succeeded(done)).toBe(true);
  });

  it('reports why a failed run ended', async () => {
    env.twin.state.jobs.get(DEMO.jobId)!.next_outcome = 'FAILED';
    const { runId } = await jobs.runNow(DEMO.jobId);
    clock.advance(QUEUE_MS + RUN_MS);
    const run = await jobs.getRun(runId);
    expect(run.state).toBe('TERMINATED');
    expect(run.result).toMatchObject({ type: 'CLIENT_ERROR', code: 'RUN_EXECUTION_ERROR' });
    expect(run.result?.message).toContain('failed');
    expect(succeeded(run)).toBe(false);
  });

  it('explains a run that does not exist', async () => {
    const err = await userError(jobs.getRun(999_999));
    expect(err.code).toBe('run_not_found');
  });
});

describe('cancelling a run', () => {
  it('cancels a running run, which passes through TERMINATING to USER_CANCELED', async () => {
    const { runId } = await jobs.runNow(DEMO.jobId);
    clock.advance(QUEUE_MS);
    await jobs.cancelRun(runId);
    expect((await jobs.getRun(runId)).state).toBe('TERMINATING');
    clock.advance(1_000);
    const run = await jobs.getRun(runId);
    expect(run).toMatchObject({ state: 'TERMINATED', result: { code: 'USER_CANCELED' } });
    expect(succeeded(run)).toBe(false);
  });

  it('cancels a queued run at once, and cancelling again changes nothing', async () => {
    const { runId } = await jobs.runNow(DEMO.jobId);
    await jobs.cancelRun(runId);
    await jobs.cancelRun(runId);
    clock.advance(QUEUE_MS + RUN_MS);
    expect(await jobs.getRun(runId)).toMatchObject({
      state: 'TERMINATED',
      result: { code: 'USER_CANCELED' },
    });
  });

  it('explains a run that does not exist', async () => {
    expect((await userError(jobs.cancelRun(999_999))).code).toBe('run_not_found');
  });
});

describe('the version a retraining run registers', () => {
  const lookup = () => ({ registry: createRegistryClient(env.http), mlflow: createMlflowRuns(env.http) });
  const settle = async (runId: number) => {
    clock.advance(QUEUE_MS + RUN_MS);
    return jobs.getRun(runId);
  };

  it('registers one READY version whose MLflow run is tagged with the job and its task run', async () => {
    const { runId } = await jobs.runNow(DEMO.jobId, { parameters: { reason: 'weekly' } });
    const run = await settle(runId);
    expect(run.taskRunIds).toHaveLength(1);
    expect(run.taskRunIds[0]).not.toBe(runId);
    const versions = await createRegistryClient(env.http).listVersions(DEMO.model);
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4]);
    const v = versions[3]!;
    expect(v).toMatchObject({ status: 'READY', createdBy: DEMO.users.riley, aliases: [] });
    expect(v.comment).toContain('weekly');
    // The version names an MLflow run (32 hex), not the job run.
    expect(v.runId).toMatch(/^[0-9a-f]{32}$/);
    const tags = await createMlflowRuns(env.http).getRunTags(v.runId!);
    expect(tags).toMatchObject({
      [JOB_ID_TAG]: String(DEMO.jobId),
      [JOB_RUN_ID_TAG]: String(run.taskRunIds[0]),
    });
  });

  it('finds that version from the finished run, confirmed by the MLflow tags', async () => {
    const { runId } = await jobs.runNow(DEMO.jobId);
    const found = await findRegisteredVersion(lookup(), DEMO.model, await settle(runId));
    expect(found).toMatchObject({ confirmed: true, version: { version: 4 } });
  });

  it('does not claim a version another job run registered at the same time', async () => {
    const { runId } = await jobs.runNow(DEMO.jobId);
    const run = await settle(runId);
    const theirs = { ...run, runId: 1, taskRunIds: [2] };
    expect(await findRegisteredVersion(lookup(), DEMO.model, theirs)).toBeUndefined();
  });

  it('reports a version created during the run without MLflow tags as unconfirmed', async () => {
    const { runId } = await jobs.runNow(DEMO.jobId);
    const run = await settle(runId);
    // As if the version's MLflow run lived in another workspace: the lookup finds no such run.
    const v4 = env.twin.state.models.get(DEMO.model.toLowerCase())!.versions.get(4)!;
    env.twin.state.mlflow_runs.delete(v4.run_id!);
    expect(await findRegisteredVersion(lookup(), DEMO.model, run)).toMatchObject({
      confirmed: false,
      version: { version: 4 },
    });
  });

  it('reports it as unconfirmed when the bot may not read the MLflow run', async () => {
    const { runId } = await jobs.runNow(DEMO.jobId);
    const run = await settle(runId);
    env.twin.faults.next('GET /api/2.0/mlflow/runs/get', { kind: 'status', status: 403 });
    expect(await findRegisteredVersion(lookup(), DEMO.model, run)).toMatchObject({
      confirmed: false,
      version: { version: 4 },
    });
  });

  it('finds nothing for a run that registered nothing, ignoring older versions', async () => {
    env.twin.state.jobs.get(DEMO.jobId)!.next_outcome = 'FAILED';
    const { runId } = await jobs.runNow(DEMO.jobId);
    const run = await settle(runId);
    expect(succeeded(run)).toBe(false);
    expect(await findRegisteredVersion(lookup(), DEMO.model, run)).toBeUndefined();
  });

  it('registers the version even when nobody reads the run first', async () => {
    await jobs.runNow(DEMO.jobId);
    clock.advance(QUEUE_MS + RUN_MS);
    const versions = await createRegistryClient(env.http).listVersions(DEMO.model);
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4]);
  });

  it('registers nothing for a failed or cancelled run', async () => {
    const registry = createRegistryClient(env.http);
    env.twin.state.jobs.get(DEMO.jobId)!.next_outcome = 'FAILED';
    await jobs.runNow(DEMO.jobId);
    env.twin.state.jobs.get(DEMO.jobId)!.next_outcome = 'SUCCESS';
    const { runId: cancelled } = await jobs.runNow(DEMO.jobId);
    await jobs.cancelRun(cancelled);
    clock.advance(QUEUE_MS + RUN_MS + 1_000);
    expect((await registry.listVersions(DEMO.model)).map((v) => v.version)).toEqual([1, 2, 3]);
  });
});

describe('MLflow runs', () => {
  it('reads the tags of a run a version came from; an unknown or malformed id is no run', async () => {
    const mlflow = createMlflowRuns(env.http);
    const v2 = await createRegistryClient(env.http).getVersion(DEMO.model, 2);
    expect(await mlflow.getRunTags(v2.runId!)).toMatchObject({ 'mlflow.source.type': 'NOTEBOOK' });
    await expect(mlflow.getRunTags('0123456789abcdef0123456789abcdef')).resolves.toBeUndefined();
    const before = env.twin.requests.length;
    await expect(mlflow.getRunTags('../../etc?x=1')).resolves.toBeUndefined();
    expect(env.twin.requests.length).toBe(before);
  });
});

describe('against a workspace that answers differently', () => {
  let server: Server;
  let odd: Jobs;
  beforeEach(async () => {
    // A loopback workspace answering 404 for unknown jobs, and a run whose deprecated `state`
    // disagrees with its `status`, to show which one the client reads.
    server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url?.startsWith('/api/2.2/jobs/run-now')) {
        res.writeHead(404);
        res.end(JSON.stringify({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Job 77 not found' }));
        return;
      }
      res.end(
        JSON.stringify({
          run_id: 5,
          job_id: 77,
          state: { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' },
          status: { state: 'RUNNING', some_future_field: true },
          start_time: 1,
          end_time: 0,
          job_parameters: [{ name: 'reason', default: 'scheduled' }],
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    odd = createJobsClient(
      createDatabricksHttp({ host, tokens: staticTokenProvider('t'), clock: simulatedClock() }),
    );
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  it('explains an unknown job answered with a 404', async () => {
    expect((await userError(odd.runNow(77))).code).toBe('job_not_found');
  });

  it('reads the status object, not the deprecated state', async () => {
    const run = await odd.getRun(5);
    expect(run.state).toBe('RUNNING');
    expect(run.result).toBeUndefined();
    expect(run.endedAt).toBeUndefined();
    expect(run.parameters).toEqual({ reason: 'scheduled' });
  });
});
