/**
 * `/mlops score`: runs the policy's batch-scoring job on a table with one model version, once, and
 * follows the run like a retraining run (domain/job-runs.ts). Everything that can be refused is
 * refused before anything is sent: no job configured, an unknown version, a missing input table,
 * an output table that exists and is not the bot's, a job that does not take the parameters. The
 * run's id in the store is run-now's idempotency token, so a retry or a restart finds the same run.
 * The one channel message says it started and is updated with how it ended (rows written, link),
 * or Databricks' reason when it failed or was cancelled.
 */

import { z } from 'zod';
import { describeFailure } from '../changes/apply.js';
import type { ScoringConfig } from '../config/policy-scoring.js';
import { type DescribeError, UserError } from '../domain/errors.js';
import { followJobRun, succeeded } from '../domain/job-runs.js';
import type { JobSettingsReader, Jobs } from '../domain/ports/jobs.js';
import type { Messenger } from '../domain/ports/messenger.js';
import type { Registry } from '../domain/ports/registry.js';
import { SCORED_BY_PROPERTY, SCORED_BY_VALUE, type Tables } from '../domain/ports/tables.js';
import type { Warehouse } from '../domain/ports/warehouse.js';
import { tableName } from '../domain/sql-identifiers.js';
import type { Actor, Origin, ParsedCommand, Reply } from '../domain/vocabulary.js';
import { jobRunUrl } from '../domain/workspace-links.js';
import { createBackground } from '../lib/background.js';
import type { Clock } from '../lib/clock.js';
import type { ScoreResult, ScoreRun, ScoreRunStore } from './store.js';

export type ScoreCommand = Extract<ParsedCommand, { subcommand: 'score' }>;

/** The job parameters the scoring job must take; `request_id` is sent when it takes it too. */
export const SCORING_PARAMETERS = ['model_uri', 'input_table', 'output_table'] as const;

/** How scoring looks in Slack (slack/blocks/scoring.ts). */
export interface ScoringViews {
  /** The ephemeral answer to the command. */
  accepted(run: ScoreRun, duplicate: boolean): Reply;
  /** The channel message while it runs (`url`: the run's page, once there is one). */
  progress(run: ScoreRun, url?: string): Pick<Reply, 'text' | 'blocks'>;
  /** The channel message once it ended. */
  finished(run: ScoreRun, result: ScoreResult): Pick<Reply, 'text' | 'blocks'>;
  describeError: DescribeError;
}

export interface ScoringDeps {
  config: ScoringConfig | undefined;
  registry: Pick<Registry, 'resolveAlias' | 'getVersion'>;
  tables: Tables;
  jobs: Pick<Jobs, 'runNow' | 'getRun'>;
  jobSettings: JobSettingsReader;
  /** Counts the rows written; without it the final message gives the link only. */
  warehouse?: Warehouse | undefined;
  store: ScoreRunStore;
  messenger: Messenger;
  views: ScoringViews;
  clock: Clock;
  workspaceHost: string;
  wait?:
    | { initialDelayMs?: number; maxDelayMs?: number; backoffFactor?: number; timeoutMs?: number }
    | undefined;
  /** The append-only audit log (the change store's): who scored what with which version, and how it ended. */
  audit?: (entry: {
    actor: string;
    action: string;
    target: string;
    after?: unknown;
    detail?: string;
  }) => unknown;
  onError?: (err: unknown, correlationId: string) => void;
}

export interface Scoring {
  score(input: ScoreCommand, actor: Actor, origin: Origin): Promise<Reply>;
  /**
   * Follows again what a previous process left running (or starts what it did not get to start):
   * only runs nobody follows, never a live replica's.
   */
  resume(): Promise<number>;
  /** This replica's runs in flight keep their lease. */
  heartbeat(): Promise<void>;
  idle(): Promise<void>;
  stop(): void;
}

/**
 * The output table when the command names none: `<input>_scored`, in the policy's output schema
 * when it has one.
 *
 * @example defaultOutputTable('acme.raw.customers', { job: 1, outputSchema: 'acme.mlops' }) // 'acme.mlops.customers_scored'
 */
export function defaultOutputTable(input: string, config: Pick<ScoringConfig, 'outputSchema'>): string {
  const parts = input.split('.');
  const schema = config.outputSchema ?? parts.slice(0, 2).join('.');
  return `${schema}.${parts[2]}_scored`;
}

/**
 * The MLflow model URI the job loads.
 *
 * @example modelUri('acme.mlops.churn_model', { alias: 'Champion' }) // 'models:/acme.mlops.churn_model@Champion'
 * @example modelUri('acme.mlops.churn_model', { version: 3 }) // 'models:/acme.mlops.churn_model/3'
 */
export function modelUri(model: string, target: ScoreCommand['target']): string {
  return 'alias' in target ? `models:/${model}@${target.alias}` : `models:/${model}/${target.version}`;
}

const countSchema = z.object({ n: z.coerce.number() });

/** @example const scoring = createScoring(deps); await scoring.resume(); */
export function createScoring(deps: ScoringDeps): Scoring {
  const { store, messenger, views, clock, workspaceHost } = deps;
  const background = createBackground({
    name: 'batch scoring',
    ...(deps.onError ? { onError: deps.onError } : {}),
  });
  const wait = {
    initialDelayMs: deps.wait?.initialDelayMs ?? 2_000,
    maxDelayMs: deps.wait?.maxDelayMs ?? 30_000,
    factor: deps.wait?.backoffFactor ?? 2,
    timeoutMs: deps.wait?.timeoutMs ?? 6 * 3_600_000,
  };

  async function parametersOf(r: ScoreRun, config: ScoringConfig): Promise<Record<string, string>> {
    const job = await deps.jobSettings.getJob(config.job);
    const declared = new Set(job.parameters.map((p) => p.name));
    const parameters: Record<string, string> = {
      ...(config.parameters ?? {}),
      model_uri: r.modelUri,
      input_table: r.inputTable,
      output_table: r.outputTable,
      ...(declared.has('request_id') ? { request_id: r.id } : {}),
    };
    const unknown = Object.keys(parameters).filter((p) => !declared.has(p));
    if (unknown.length > 0) {
      throw new UserError('unknown_job_parameter', {
        job: job.name,
        jobId: job.jobId,
        unknown,
        declared: [...declared],
      });
    }
    return parameters;
  }

  async function end(r: ScoreRun, result: ScoreResult): Promise<void> {
    const status =
      result.kind === 'succeeded' ? 'succeeded' : result.kind === 'unfollowed' ? 'unfollowed' : 'failed';
    if (!(await store.finish(r.id, status, result))) return; // another process ended it
    await deps.audit?.({
      actor: 'modelgate',
      action: `score.${status}`,
      target: `table:${r.outputTable}`,
      after: { ...result, runId: r.runId },
      detail: `score ${r.id}`,
    });
    const message = views.finished(r, result);
    const delivery = { requester: r.requester, final: true };
    const ref = r.message ?? (await store.get(r.id))?.message;
    if (ref) await messenger.update(ref, message, delivery);
    else await messenger.post(r.channel, message, undefined, delivery);
  }

  async function rowsWritten(r: ScoreRun): Promise<number | undefined> {
    if (!deps.warehouse) return undefined;
    try {
      const byRequest = (await deps.jobSettings.getJob(r.jobId)).parameters.some(
        (p) => p.name === 'request_id',
      );
      const sql = `SELECT count(*) AS n FROM ${tableName(r.outputTable)}${byRequest ? ' WHERE request_id = :rid' : ''}`;
      const [row] = await deps.warehouse.query(sql, byRequest ? { rid: r.id } : {}, countSchema);
      return row?.n;
    } catch (e) {
      // The run's outcome stands; only the count is missing from the message.
      background.report(e);
      return undefined;
    }
  }

  /** Starts the job (or finds the run the token already started) and follows it to its end. */
  async function run(initial: ScoreRun): Promise<void> {
    let r = initial;
    try {
      if (r.runId === undefined) {
        const config = deps.config;
        if (!config) throw new UserError('scoring_not_configured', {});
        const started = await deps.jobs.runNow(r.jobId, {
          idempotencyToken: r.id,
          parameters: await parametersOf(r, config),
        });
        if (!(await store.recordRun(r.id, started.runId))) return;
        await deps.audit?.({
          actor: r.requester,
          action: 'score.started',
          target: `table:${r.outputTable}`,
          after: {
            modelUri: r.modelUri,
            version: r.version,
            input: r.inputTable,
            jobId: r.jobId,
            runId: started.runId,
          },
          detail: `score ${r.id}`,
        });
        r = { ...r, runId: started.runId, status: 'running' };
        if (r.message)
          await messenger.update(
            r.message,
            views.progress(r, jobRunUrl(workspaceHost, { jobId: r.jobId, runId: started.runId })),
          );
      }
      const runId = r.runId!;
      const followed = await followJobRun(deps.jobs, runId, { clock, signal: background.signal, ...wait });
      if (followed.status === 'timed_out') {
        await end(r, {
          kind: 'unfollowed',
          url: jobRunUrl(workspaceHost, followed.seen),
          afterMs: wait.timeoutMs,
          state: followed.seen.state,
        });
        return;
      }
      const done = followed.run;
      const url = jobRunUrl(workspaceHost, done);
      if (!succeeded(done)) {
        await end(r, {
          kind: 'failed',
          url,
          state: done.state,
          ...(done.result ? { code: done.result.code } : {}),
          ...(done.result?.message ? { message: done.result.message } : {}),
        });
        return;
      }
      const rows = await rowsWritten(r);
      await end(r, {
        kind: 'succeeded',
        url,
        ...(rows !== undefined ? { rows } : {}),
        ...(done.startedAt && done.endedAt
          ? { tookMs: done.endedAt.getTime() - done.startedAt.getTime() }
          : {}),
      });
    } catch (e) {
      if (background.signal.aborted) return; // stays in flight: the next process follows it
      const text = describeFailure(e, views.describeError);
      const reason = text ?? { reason: `Something went wrong on our side (ref ${background.report(e)}).` };
      await end(r, {
        kind: 'failed',
        ...(r.runId !== undefined
          ? { url: jobRunUrl(workspaceHost, { jobId: r.jobId, runId: r.runId }) }
          : {}),
        ...reason,
      });
    }
  }

  return {
    async score(input, actor, origin) {
      const config = deps.config;
      if (!config) throw new UserError('scoring_not_configured', {});
      const version =
        'alias' in input.target
          ? await deps.registry.resolveAlias(input.model, input.target.alias)
          : await deps.registry.getVersion(input.model, input.target.version);
      if (version.status !== 'READY') {
        throw new UserError('version_not_ready', {
          model: input.model,
          version: version.version,
          status: version.status,
        });
      }
      const output = input.output ?? defaultOutputTable(input.input, config);
      if (output.toLowerCase() === input.input.toLowerCase()) {
        throw new UserError('score_same_table', { table: output });
      }
      if (!(await deps.tables.getTable(input.input))) {
        throw new UserError('score_input_missing', { table: input.input });
      }
      const existing = await deps.tables.getTable(output);
      if (existing && existing.properties[SCORED_BY_PROPERTY] !== SCORED_BY_VALUE) {
        throw new UserError('score_output_foreign', {
          table: output,
          ...(existing.owner ? { owner: existing.owner } : {}),
        });
      }
      const alias =
        'alias' in input.target
          ? (version.aliases.find(
              (a) => a.toLowerCase() === (input.target as { alias: string }).alias.toLowerCase(),
            ) ?? input.target.alias)
          : undefined;
      const draft = {
        requester: actor.userId,
        channel: origin.channelId,
        model: input.model,
        version: version.version,
        ...(alias ? { alias } : {}),
        modelUri: modelUri(input.model, alias ? { alias } : input.target),
        inputTable: input.input,
        outputTable: output,
        jobId: config.job,
      };
      // Checked before anything is stored or sent: the job must take the parameters.
      await parametersOf({ ...draft, id: 'check', createdAt: 0, updatedAt: 0, status: 'starting' }, config);
      const { run: created, duplicate } = await store.create({
        ...draft,
        ...(origin.triggerId ? { triggerId: origin.triggerId } : {}),
      });
      if (duplicate) return views.accepted(created, true);
      const ref = await messenger.post(created.channel, views.progress(created), undefined, {
        requester: created.requester,
      });
      await store.setMessage(created.id, ref);
      const withMessage = { ...created, message: ref };
      background.track(() => run(withMessage));
      return views.accepted(withMessage, false);
    },

    async resume() {
      // Only runs nobody follows: a live replica's keep their owner (issue #13).
      const open = await store.takeOver();
      for (const r of open) background.track(() => run(r));
      return open.length;
    },
    heartbeat: () => store.heartbeat(),
    idle: () => background.idle(),
    stop: () => background.stop(),
  };
}
