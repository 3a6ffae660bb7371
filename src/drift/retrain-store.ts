/**
 * One retraining request per model per alert episode: who claimed the Retrain of a monitor's model id,
 * in which episode (its `generation`), how the request went, and which alerts the claim covers.
 *
 * An episode is the stretch during which some alert of the (monitor, model id) stays open: the claim
 * covers the alerts open when it was made and those opened while one of them still is. Every write is
 * one statement with a compare-and-set (a claim names the generation it saw; a settle names the one it
 * holds), so two clicks, or two processes, never make two requests. Async throughout, over the
 * process's SQLite connection for now (the storage port moves it to Kysely unchanged).
 */
import { z } from 'zod';
import type { SqliteDatabase } from '../storage/database.js';

export type RetrainClaimState = 'requesting' | 'requested' | 'failed';

export interface RetrainClaim {
  monitor: string;
  modelId: string;
  /** Bumped by each new episode's claim. */
  generation: number;
  state: RetrainClaimState;
  requestedBy: string;
  requestedAt: number;
  /** The approval request, once made. */
  request?: { id?: string; channel?: string; ts?: string; link?: string };
}

export interface DriftRetrainStore {
  /** The latest claim of a monitor's model id, whatever its episode. */
  current(monitor: string, modelId: string): Promise<RetrainClaim | undefined>;
  /**
   * Compare-and-set: claims the Retrain for a new episode. `seen` is the generation read before
   * (undefined: none); undefined back when another claim came first.
   */
  claim(input: {
    monitor: string;
    modelId: string;
    by: string;
    at: number;
    seen: number | undefined;
  }): Promise<RetrainClaim | undefined>;
  /** Compare-and-set requesting → requested | failed, for the generation held; false if it moved on. */
  settle(
    claim: Pick<RetrainClaim, 'monitor' | 'modelId' | 'generation'>,
    outcome: { state: 'requested'; request: NonNullable<RetrainClaim['request']> } | { state: 'failed' },
  ): Promise<boolean>;
  /** Puts an alert under a claim's episode (once; a later cover of the same alert changes nothing). */
  cover(alertId: string, claim: Pick<RetrainClaim, 'monitor' | 'modelId' | 'generation'>): Promise<void>;
  /** The alerts a claim's episode covers. */
  covered(claim: Pick<RetrainClaim, 'monitor' | 'modelId' | 'generation'>): Promise<string[]>;
  /** The claim whose episode covers this alert, if that claim is still the current one. */
  forAlert(alertId: string): Promise<RetrainClaim | undefined>;
}

const keyOf = (monitor: string, modelId: string) => `${monitor}/${modelId}`;

const claimRowSchema = z.object({
  monitor: z.string(),
  model_id: z.string(),
  generation: z.number(),
  state: z.enum(['requesting', 'requested', 'failed']),
  requested_by: z.string(),
  requested_at: z.number(),
  request_json: z.string().nullable(),
});

const requestSchema = z.object({
  id: z.string().optional(),
  channel: z.string().optional(),
  ts: z.string().optional(),
  link: z.string().optional(),
});

function toClaim(row: unknown): RetrainClaim {
  const r = claimRowSchema.parse(row);
  const request = r.request_json ? requestSchema.parse(JSON.parse(r.request_json)) : undefined;
  return {
    monitor: r.monitor,
    modelId: r.model_id,
    generation: r.generation,
    state: r.state,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at,
    ...(request ? { request: stripUndefined(request) } : {}),
  };
}

const stripUndefined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

const COLUMNS = 'monitor, model_id, generation, state, requested_by, requested_at, request_json';

/**
 * @example
 * const retrains = createDriftRetrainStore(db);
 * const claim = await retrains.claim({ monitor: 'churn', modelId: '*', by: 'U1', at: now, seen: undefined });
 */
export function createDriftRetrainStore(db: SqliteDatabase): DriftRetrainStore {
  const byKey = db.prepare(`SELECT ${COLUMNS} FROM drift_retrains WHERE key = ?`);
  const insert = db.prepare(
    `INSERT INTO drift_retrains (key, ${COLUMNS}) VALUES (?, ?, ?, 1, 'requesting', ?, ?, NULL)
     ON CONFLICT (key) DO NOTHING`,
  );
  const takeOver = db.prepare(
    `UPDATE drift_retrains SET generation = generation + 1, state = 'requesting', requested_by = ?,
       requested_at = ?, request_json = NULL
     WHERE key = ? AND generation = ?`,
  );
  const settle = db.prepare(
    `UPDATE drift_retrains SET state = ?, request_json = ?
     WHERE key = ? AND generation = ? AND state = 'requesting'`,
  );
  const cover = db.prepare(
    `INSERT INTO drift_retrain_alerts (alert_id, key, generation) VALUES (?, ?, ?)
     ON CONFLICT (alert_id, key, generation) DO NOTHING`,
  );
  const covered = db.prepare(
    'SELECT alert_id FROM drift_retrain_alerts WHERE key = ? AND generation = ? ORDER BY alert_id',
  );
  const forAlert = db.prepare(
    `SELECT ${COLUMNS.split(', ')
      .map((c) => `r.${c}`)
      .join(', ')}
     FROM drift_retrain_alerts a JOIN drift_retrains r ON r.key = a.key AND r.generation = a.generation
     WHERE a.alert_id = ?`,
  );

  const current = async (monitor: string, modelId: string) => {
    const row = byKey.get(keyOf(monitor, modelId));
    return row ? toClaim(row) : undefined;
  };

  return {
    current,
    async claim({ monitor, modelId, by, at, seen }) {
      const key = keyOf(monitor, modelId);
      const changed =
        seen === undefined
          ? insert.run(key, monitor, modelId, by, at).changes
          : takeOver.run(by, at, key, seen).changes;
      if (changed !== 1) return undefined;
      return current(monitor, modelId);
    },
    async settle(c, outcome) {
      const request = outcome.state === 'requested' ? JSON.stringify(outcome.request) : null;
      return settle.run(outcome.state, request, keyOf(c.monitor, c.modelId), c.generation).changes === 1;
    },
    async cover(alertId, c) {
      cover.run(alertId, keyOf(c.monitor, c.modelId), c.generation);
    },
    async covered(c) {
      return (covered.all(keyOf(c.monitor, c.modelId), c.generation) as Array<{ alert_id: string }>).map(
        (r) => r.alert_id,
      );
    },
    async forAlert(alertId) {
      // The newest generation covering it: an alert is covered by one episode at most, in practice.
      const rows = forAlert.all(alertId);
      const row = rows[rows.length - 1];
      return row ? toClaim(row) : undefined;
    },
  };
}
