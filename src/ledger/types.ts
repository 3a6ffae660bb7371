/**
 * The ledger's vocabulary: what it watches (targets), what it saw there (states), who the API says
 * did it (facts), and the entries it records. Facts only: nothing here holds Slack markup.
 */
import type { EndpointConfig } from '../domain/ports/serving.js';
import type { MessageRef, Reply } from '../domain/vocabulary.js';

/** Something the ledger follows: an endpoint's live config, or one alias of a model. */
export type LedgerTarget =
  | { kind: 'endpoint'; endpoint: string }
  | { kind: 'alias'; model: string; alias: string };

/**
 * What a target held when it was read. An endpoint without a live config (absent, or never
 * deployed) has `config: null`; an alias that is not set has `version: null`.
 */
export type TargetState =
  | { kind: 'endpoint'; config: EndpointConfig | null }
  | { kind: 'alias'; version: number | null };

/** What Databricks says about who and when, as far as it says anything (reference §5.1). */
export interface ApiFacts {
  /** The endpoint's creator (it never changes; Databricks has no `updated_by` on endpoints). */
  endpointCreator?: string;
  /** The endpoint's `last_updated_timestamp` (ms). */
  endpointUpdatedAt?: number;
  /** The live config version. */
  configVersion?: number;
  /** Who registered the version an alias now points at (`created_by`), and when. */
  versionCreatedBy?: string;
  versionCreatedAt?: number;
}

/** One target as read this tick. */
export interface Observation {
  /** `endpoint:<name>` or `alias:<model>@<alias, lower-case>`, as the change store names targets. */
  key: string;
  target: LedgerTarget;
  state: TargetState;
  facts: ApiFacts;
}

/** A change the bot applied, as the change store's audit log tells it. */
export interface BotChange {
  changeId: string;
  key: string;
  /** When Apply (or an approved execution) started it, ms. */
  appliedAt: number;
  /** Slack user id of whoever applied it. */
  appliedBy: string;
  /** The state the change was meant to leave. */
  after: TargetState;
  /** The config version Databricks gave its rollout, when known. */
  expectConfigVersion?: number;
}

/** How a recorded difference came about. */
export type LedgerSource =
  /** The first time the ledger saw this target: a starting point, not a change. */
  | { kind: 'baseline' }
  /** Made by the bot: the change id and who applied it. */
  | { kind: 'bot'; changeId: string; appliedBy: string }
  /** Made anywhere else (UI, CLI, bundles, jobs), with what the API says about who and when. */
  | { kind: 'out_of_band'; facts: ApiFacts };

/** An entry before it is stored. */
export interface NewLedgerEntry {
  key: string;
  target: LedgerTarget;
  /** The state before; null for a baseline. */
  before: TargetState | null;
  after: TargetState;
  source: LedgerSource;
  /** Best known time of the change (ms): the endpoint's update time when it fits, else `detectedAt`. */
  at: number;
  /** When the ledger saw it. */
  detectedAt: number;
  /** When the ledger last saw the state before (the change happened after it); undefined for a baseline. */
  notBefore?: number;
  /** Where it must be posted (an out-of-band change to a gated target); undefined: not posted. */
  notify?: string;
}

/** A stored entry. */
export interface LedgerEntry extends NewLedgerEntry {
  seq: number;
  postedAt?: number;
  message?: MessageRef;
  /** Why the last post failed, when it did. */
  postError?: string;
  postAttempts: number;
}

/** The last entry of a target: what the ledger believes the target holds now. */
export type Snapshot = Pick<LedgerEntry, 'seq' | 'key' | 'target' | 'after' | 'detectedAt'>;

/** `/mlops history` for one endpoint or model, as data for the views. */
export interface HistoryView {
  /** What the user typed. */
  subject: string;
  /** The time asked about, ms; undefined: now. */
  at?: number;
  now: number;
  /** One per target found: its state at `at` and its entries, newest first. */
  targets: Array<{
    target: LedgerTarget;
    /** The state at `at`; undefined when the ledger had not seen the target yet. */
    stateAt?: TargetState;
    /** When the ledger first saw it. */
    since: number;
    entries: LedgerEntry[];
  }>;
}

/** How ledger messages look (slack/blocks/ledger.ts implements it). */
export interface LedgerViews {
  /** The channel post for an out-of-band change to a gated target. */
  outOfBand(entry: LedgerEntry): Pick<Reply, 'text' | 'blocks'>;
}

/** `/mlops history` reads through this; the ledger service implements it. */
export interface LedgerReader {
  /** History of an endpoint and/or a model (its aliases), optionally the state at a time. */
  history(
    subject: { endpoint?: string; model?: string; text: string },
    at: number | undefined,
    now: number,
  ): Promise<HistoryView>;
}
