/**
 * What /mlops handlers may use, built once in the composition root. Kept apart from the
 * vocabulary so the types every layer shares import none of the services.
 */
import type { ApprovalDesk } from '../approvals/service.js';
import type { PlanDeps } from '../changes/plan/index.js';
import type { ChangePipeline } from '../domain/vocabulary.js';
import type { DriftCommands } from '../drift/watch.js';
import type { LedgerReader } from '../ledger/types.js';
import type { Clock } from '../lib/clock.js';
import type { MonitorDesk } from '../monitoring/service.js';
import type { RolloutDesk } from '../rollouts/service.js';
import type { Scoring } from '../scoring/service.js';
import type { CommandViews } from './views.js';

/** Everything a handler may use: the reads behind plans, and more. Built once in the composition root. */
export interface CommandDeps extends PlanDeps {
  changes: ChangePipeline;
  /** How read-only answers look (slack/blocks/views.ts `commandViews`). */
  views: CommandViews;
  clock: Clock;
  /** Workspace base URL, for links in messages. */
  workspaceHost: string;
  /** Drift checks on demand; absent when no monitor or no SQL warehouse is configured. */
  drift?: DriftCommands;
  /** Retraining requests, pending approvals and the audit trail; absent where approvals are not wired. */
  approvals?: ApprovalDesk;
  /** The ledger of changes, for `/mlops history`; absent where it is not wired. */
  ledger?: LedgerReader;
  /** Canary rollouts; absent where no SQL warehouse is configured (their guardrails read through it). */
  rollouts?: RolloutDesk;
  /** Batch scoring (`/mlops score`); absent where it is not wired. */
  scoring?: Scoring;
  /** Monitor set-up, refresh and status (`/mlops monitor`); absent where it is not wired. */
  monitoring?: MonitorDesk;
}

/** `/mlops drift`: runs checks now and says what was posted (the drift watch implements it). */
export type { DriftCommands };
