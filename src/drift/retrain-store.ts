/**
 * One retraining request per model per alert episode: who claimed the Retrain of a monitor's model id,
 * in which episode (its `generation`), how the request went, and which alerts the claim covers.
 *
 * An episode is the stretch during which some alert of the (monitor, model id) stays open: the claim
 * covers the alerts open when it was made and those opened while one of them still is. Every write is
 * one statement with a compare-and-set (a claim names the generation it saw; a settle names the one it
 * holds), so two clicks, or two processes (replicas on Postgres), never make two requests. One
 * implementation over the process's store, SQLite or Postgres.
 */
import { sql } from 'kysely';
import { z } from 'zod';
import type { StoreDatabase } from '../storage/database.js';
import { all, first, run } from '../storage/sql.js';

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

const COLUMNS = sql.raw('monitor, model_id, generation, state, requested_by, requested_at, request_json');
const R_COLUMNS = sql.raw(
  'r.monitor, r.model_id, r.generation, r.state, r.requested_by, r.requested_at, r.request_json',
);

/**
 * @example
 * const retrains = createDriftRetrainStore(db);
 * const claim = await retrains.claim({ monitor: 'churn', modelId: '*', by: 'U1', at: now, seen: undefined });
 */
export function createDriftRetrainStore(database: StoreDatabase): DriftRetrainStore {
  const db = database.kysely;
  const ms = (t: number) => Math.round(t);

  const current = async (monitor: string, modelId: string) => {
    const row = await first(
      db,
      sql`SELECT ${COLUMNS} FROM drift_retrains WHERE key = ${keyOf(monitor, modelId)}`,
    );
    return row ? toClaim(row) : undefined;
  };

  return {
    current,
    async claim({ monitor, modelId, by, at, seen }) {
      const key = keyOf(monitor, modelId);
      // The first episode inserts generation 1; a later one takes over the generation it read.
      const changed =
        seen === undefined
          ? await run(
              db,
              sql`INSERT INTO drift_retrains (key, ${COLUMNS})
                  VALUES (${key}, ${monitor}, ${modelId}, 1, 'requesting', ${by}, ${ms(at)}, NULL)
                  ON CONFLICT (key) DO NOTHING`,
            )
          : await run(
              db,
              sql`UPDATE drift_retrains SET generation = generation + 1, state = 'requesting', requested_by = ${by},
                    requested_at = ${ms(at)}, request_json = NULL
                  WHERE key = ${key} AND generation = ${seen}`,
            );
      if (changed !== 1) return undefined;
      return current(monitor, modelId);
    },
    async settle(c, outcome) {
      const request = outcome.state === 'requested' ? JSON.stringify(outcome.request) : null;
      return (
        (await run(
          db,
          sql`UPDATE drift_retrains SET state = ${outcome.state}, request_json = ${request}
              WHERE key = ${keyOf(c.monitor, c.modelId)} AND generation = ${c.generation} AND state = 'requesting'`,
        )) === 1
      );
    },
    async cover(alertId, c) {
      await sql`INSERT INTO drift_retrain_alerts (alert_id, key, generation)
                VALUES (${alertId}, ${keyOf(c.monitor, c.modelId)}, ${c.generation})
                ON CONFLICT (alert_id, key, generation) DO NOTHING`.execute(db);
    },
    async covered(c) {
      const rows = await all(
        db,
        sql`SELECT alert_id FROM drift_retrain_alerts
            WHERE key = ${keyOf(c.monitor, c.modelId)} AND generation = ${c.generation} ORDER BY alert_id`,
      );
      return rows.map((r) => z.object({ alert_id: z.string() }).parse(r).alert_id);
    },
    async forAlert(alertId) {
      // The newest generation covering it: an alert is covered by one episode at most, in practice.
      const row = await first(
        db,
        sql`SELECT ${R_COLUMNS}
            FROM drift_retrain_alerts a JOIN drift_retrains r ON r.key = a.key AND r.generation = a.generation
            WHERE a.alert_id = ${alertId}
            ORDER BY r.generation DESC, r.key DESC LIMIT 1`,
      );
      return row ? toClaim(row) : undefined;
    },
  };
}
