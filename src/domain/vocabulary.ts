/**
 * Types shared by the subcommands, the change pipeline and the Slack layer. Handlers take
 * parsed input and small interfaces and return a Reply; only the Slack layer talks to Slack.
 */
import type { Plan } from './change.js';

/** Who is asking, as Slack tells it. */
export interface Actor {
  userId: string;
  userName?: string;
  teamId?: string;
}

/** Where a command was typed. */
export interface Origin {
  channelId: string;
  channelName?: string;
  /** Slack's trigger id: unique per command invocation, used to drop Slack retries. */
  triggerId?: string;
}

/**
 * One block of a message, as the Slack views build it (Block Kit). The domain only passes blocks
 * through, so it names the shape Slack requires of every block and nothing more.
 */
export interface MessageBlock {
  type: string;
  block_id?: string;
}

/** What a handler answers. The Slack layer sends it through respond() or chat.postMessage. */
export interface Reply {
  /** Fallback text: notifications, screen readers, and clients that cannot render blocks. */
  text: string;
  blocks?: MessageBlock[];
  /** Ephemeral replies are seen by the requester only. */
  visibility: 'ephemeral' | 'in_channel';
  /** Replace the message the clicked button was on (button handlers). */
  replaceOriginal?: boolean;
  /** Remove the (ephemeral) message the clicked button was on instead of answering. */
  deleteOriginal?: boolean;
  /**
   * Nothing to send: the answer is a channel message the bot posts or updates itself (the one
   * message of a change), so a response_url reply would be a second copy.
   */
  silent?: boolean;
}

/** The answer of a handler whose answer is a channel message the bot posts or updates itself. */
export const SILENT_REPLY: Reply = { text: '', visibility: 'in_channel', silent: true };

/** A message the bot posted and may update later (rollout progress). */
export interface MessageRef {
  channel: string;
  ts: string;
}

/**
 * The change pipeline as command handlers see it: they build a plan and hand it over.
 * `input` is the parsed command, kept so Apply can rebuild the plan and detect staleness.
 */
export interface ChangePipeline {
  propose(request: {
    input: MutatingCommand;
    plan: Plan;
    actor: Actor;
    origin: Origin;
    dryRun: boolean;
  }): Promise<Reply>;
}

export type WorkloadSizeInput = 'Small' | 'Medium' | 'Large';

export type VersionRef = { version: number } | { alias: string };

export type DeployCommand = {
  subcommand: 'deploy';
  /** Three-part name, short names already resolved against the policy defaults. */
  model: string;
  target: VersionRef;
  endpoint?: string;
  size?: WorkloadSizeInput;
  scaleToZero?: boolean;
  dryRun: boolean;
};
export type SplitCommand = {
  subcommand: 'split';
  endpoint: string;
  routes: Array<{ version: number; percent: number }>;
  dryRun: boolean;
};
export type PromoteCommand = {
  subcommand: 'promote';
  model: string;
  version: number;
  /** Production is gated: it becomes an approval request (changes/approvals.ts). */
  alias: 'Challenger' | 'Champion' | 'Production';
  dryRun: boolean;
};
export type RollbackCommand = { subcommand: 'rollback'; endpoint: string; dryRun: boolean };

export type RolloutCommand = {
  subcommand: 'rollout';
  endpoint: string;
  /** Three-part name, resolved against the policy defaults. */
  model: string;
  target: VersionRef;
  /** Canary traffic per step (percent, increasing); the last 100 is added when missing. */
  steps?: number[];
  /** Dwell time of each step before it is judged (ms). */
  everyMs?: number;
  /** The policy analysis to judge by; `default` when not given. */
  analysis?: string;
  dryRun: boolean;
};

export type MutatingCommand = DeployCommand | SplitCommand | PromoteCommand | RollbackCommand;

/** The subcommands that change something through the change pipeline (a plan, Apply, protected endpoints). */
export const MUTATING_SUBCOMMANDS = [
  'deploy',
  'split',
  'promote',
  'rollback',
] as const satisfies readonly MutatingCommand['subcommand'][];
export type MutatingSubcommand = (typeof MUTATING_SUBCOMMANDS)[number];

export type QueryRecords =
  | { records: Array<Record<string, unknown>> }
  | { split: { columns: string[]; data: unknown[][] } };

export type ParsedCommand =
  | { subcommand: 'help'; topic?: string }
  | { subcommand: 'status'; endpoint?: string }
  | { subcommand: 'models'; model: string }
  | { subcommand: 'query'; endpoint: string; input: QueryRecords }
  | { subcommand: 'drift'; monitor?: string }
  /** A gated retraining request for a monitor's model or a model (changes/approvals.ts). */
  | { subcommand: 'retrain'; target: string; reason?: string; dryRun: boolean }
  /** Pending approval requests. */
  | { subcommand: 'approvals' }
  /** The latest changes, optionally of one model or endpoint. */
  | { subcommand: 'audit'; target?: string }
  /** What an endpoint served or where a model's aliases pointed (now or `at`, ISO text), and who changed it. */
  | { subcommand: 'history'; target: string; at?: string }
  /** A canary rollout (src/rollouts): its own plan, gate and state machine, not the change pipeline. */
  | RolloutCommand
  /** A policy monitor on Databricks: create it (planned, then confirmed), refresh it, or show it. */
  | { subcommand: 'monitor'; action: 'create' | 'refresh' | 'status'; monitor?: string }
  /** Runs the policy's batch-scoring job on a table with a model version (by alias or number). */
  | { subcommand: 'score'; model: string; target: VersionRef; input: string; output?: string }
  | MutatingCommand;

export type Subcommand = ParsedCommand['subcommand'];
