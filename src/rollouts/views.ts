/**
 * How rollouts look, as a port: the Block Kit builders in slack/blocks/rollout.ts implement it, so
 * nothing here knows Slack's words.
 */
import type { MessageBlock, Reply } from '../domain/vocabulary.js';
import type { Rollout, RolloutPlan } from './types.js';

export interface RolloutMessageView {
  rollout: Rollout;
  now: number;
  workspaceHost: string;
}

/** What a click or a command is answered with, besides an error. */
export type RolloutNotice =
  | 'started'
  | 'approval_requested'
  | 'approved'
  | 'cancelled'
  | 'paused'
  | 'resumed'
  | 'promoting'
  | 'aborting';

export interface RolloutViews {
  /** The one channel message of a rollout: plan, current step, figures against guardrails, buttons. */
  message(view: RolloutMessageView): { text: string; blocks?: MessageBlock[] };
  /** The thread line with the figures that failed it. */
  failingFigures(rollout: Rollout): { text: string; blocks?: MessageBlock[] };
  /** The plan, ephemeral: schedule, guardrails, rollback triggers; Start / Cancel unless a dry run. */
  planReply(plan: RolloutPlan, options: { rolloutId?: string; dryRun: boolean; note?: string }): Reply;
  /** A short ephemeral answer to a command or click. */
  notice(kind: RolloutNotice, rollout: Rollout): Reply;
}
