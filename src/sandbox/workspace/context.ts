/**
 * What the twin's route modules share with its server: the context they get and the record an
 * invocation produces. Kept apart from server.ts so routes and server do not import each other.
 */
import type { Clock } from '../../lib/clock.js';
import type { Job, JobRun, WorkspaceState } from './state.js';

/** How a batch-scoring run's write went: the run fails with `message` when it did not. */
export type BatchScoreResult = { ok: true; rows: number } | { ok: false; message: string };

/** One request a served endpoint answered; the sandbox appends it to the inference table. */
export interface InferenceRecord {
  endpoint: string;
  servedEntity: string;
  entityName: string;
  entityVersion: string;
  request: unknown;
  response: unknown;
  statusCode: number;
  executionMs: number;
  at: Date;
  requestId: string;
  clientRequestId?: string;
}

/** What route modules get: state, the clock, timings and hooks. */
export interface TwinContext {
  state: WorkspaceState;
  clock: Clock;
  rolloutDelayMs: number;
  /** New served versions of a rollout become ready one by one over its length (default: all at its end). */
  rolloutStagger?: boolean;
  jobQueueMs: number;
  jobRunMs: number;
  /** Most items a Unity Catalog list page holds, whatever max_results asks (see registry-routes). */
  listPageSize: number;
  /** The twin's own base URL (for run_page_url and similar links). */
  baseUrl: () => string;
  /** Called after every successful invocation (the sandbox writes it to DuckDB). */
  onInference?: (record: InferenceRecord) => void | Promise<void>;
  /** Runs a batch-scoring job's work when its run ends (the sandbox writes the output table to DuckDB). */
  onBatchScore?: (run: JobRun, job: Job) => Promise<BatchScoreResult>;
}
