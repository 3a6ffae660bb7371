/**
 * The drift watch's own small interfaces: a monitor as the checks use it (policy entry resolved), the
 * publisher that carries messages and chart images to Slack (implemented in slack/publisher.ts), the
 * views that word them (slack/blocks/), and the ports to the audit log and to retraining requests.
 */
import type { ChartRenderer } from '../charts/renderer.js';
import type { MonitorConfig } from '../config/policy-monitors.js';
import type { Monitors } from '../domain/ports/monitors.js';
import type { Serving } from '../domain/ports/serving.js';
import type { Warehouse } from '../domain/ports/warehouse.js';
import type { Actor, MessageRef, Origin, Reply } from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { AlertView, CheckFailure, RuleEvaluation } from './alert-view.js';
import type { DriftRetrainStore } from './retrain-store.js';
import type { DriftRule } from './rules.js';
import type { DriftAlert, DriftStateStore } from './state-store.js';

/** A policy monitor, resolved once at start-up. */
export interface WatchedMonitor {
  name: string;
  config: MonitorConfig;
  /** Three-part model name. */
  model: string;
  rules: DriftRule[];
  renderer: ChartRenderer;
  /** Whether a retraining job is known for it (its retrainJob, or the policy's retraining entry). */
  retrainable?: boolean;
}

export interface ChartFile {
  png: Buffer;
  filename: string;
  title: string;
  altText: string;
}

/** Posting, updating and uploading into channels and threads. */
export interface DriftPublisher {
  post(channel: string, message: Pick<Reply, 'text' | 'blocks'>, threadTs?: string): Promise<MessageRef>;
  update(ref: MessageRef, message: Pick<Reply, 'text' | 'blocks'>): Promise<void>;
  /** Uploads a PNG into a thread (files.uploadV2). */
  upload(channel: string, threadTs: string, file: ChartFile): Promise<void>;
  /** A link to a message, when the platform gives one. */
  permalink?(ref: MessageRef): Promise<string | undefined>;
}

/** What the store knows about an alert beyond its view. */
export interface AlertState {
  id: string;
  status: 'open' | 'closed';
  snoozedUntil?: number;
  snoozedBy?: string;
  acknowledgedBy?: string;
  acknowledgedAt?: number;
  closedAt?: number;
  /** Where the chart is when it is not in the message (local renderer: the thread). */
  chartInThread?: boolean;
  /** The retraining asked for in this alert episode: the alert shows it instead of a Retrain button. */
  retrainRequest?: RetrainRequestView;
}

/** A retraining asked for from an alert episode, as the alert shows it. */
export interface RetrainRequestView {
  by: string;
  at: number;
  /** `requesting` while the approvals service makes the request. */
  state: 'requesting' | 'requested';
  /** The approval request's id, when known. */
  requestId?: string;
  /** A link to the request message, when Slack gave one. */
  link?: string;
  /** The channel the request message is in, when known. */
  channel?: string;
}

export interface FailureView {
  monitor: string;
  model: string;
  failure: CheckFailure;
  since: number;
}

export interface ReportRule {
  view: AlertView;
  /** The open alert of this rule, if any, with a link to it. */
  openAlert?: { permalink?: string; channel: string };
}

export interface CheckSummary {
  monitor: string;
  channel: string;
  outcome: 'ok' | 'failed';
  alertsPosted: number;
  updatesPosted: number;
  recoveries: number;
  reportPosted: boolean;
  error?: CheckFailure;
  /** The latest scheduled check of the past week that did not run on time (the drift command says so). */
  missed?: { scheduledAt: number; runs: number; caughtUpAt?: number };
}

type DriftMessage = Pick<Reply, 'text' | 'blocks'>;

/** How the drift messages look (implemented in slack/blocks/views.ts). */
export interface DriftViews {
  /** The alert message, and its redraws. */
  alert(view: AlertView, state: AlertState, now: number): DriftMessage;
  /** New violating windows, in the alert's thread. */
  update(view: AlertView): DriftMessage;
  /** The rule holds again, in the alert's thread. */
  recovery(view: AlertView): DriftMessage;
  /** A failing check, posted once per failing streak. */
  failure(f: FailureView): DriftMessage;
  /** The failing check works again. */
  failureRecovered(f: { monitor: string; since: number; attempts: number; at: number }): DriftMessage;
  /** The drift command's report: the result of a check that posted no alert. */
  report(input: {
    monitor: string;
    model: string;
    modelId: string;
    rules: readonly ReportRule[];
    chartsInThread: boolean;
  }): DriftMessage;
  /** The ephemeral answer to the drift command. */
  checkReply(summaries: readonly CheckSummary[]): Reply;
}

/** The alert an action is about, as its replies name it. */
export type AlertRef = Pick<DriftAlert, 'monitor' | 'rule' | 'modelId' | 'view'>;

/** How the alert buttons answer the clicker (implemented in slack/blocks/drift.ts). */
export interface DriftActionViews {
  /** Snooze 24 h worked: until when, and what that means. */
  snoozed(alert: AlertRef, until: number): Reply;
  /** Acknowledge worked. */
  acknowledged(alert: AlertRef): Reply;
  /** Why retraining is asked for, shown to approvers. */
  retrainReason(alert: AlertRef): string;
  /** Retrain on an alert whose episode has its retraining request already. */
  retrainAlreadyRequested(alert: AlertRef, request: RetrainRequestView): Reply;
  /** Details: the per-window table, the counts and how the counting works. */
  details(alert: AlertRef): Reply;
}

/** One line of the audit log (the change store's audit, seen from the drift side). */
export interface DriftAuditEntry {
  actor: string;
  action: string;
  target: string;
  before?: unknown;
  after?: unknown;
  detail?: string;
}

/** Where alert clicks are recorded. */
export interface DriftAudit {
  audit(entry: DriftAuditEntry): Promise<void>;
}

/** A gated retraining request, as a drift alert asks for one. */
export interface DriftRetrainRequest {
  model: string;
  jobId: number;
  monitor?: string;
  reason: string;
  actor: Actor;
  origin: Origin;
  /** The alert's thread: the request points there and reports its outcome there. */
  threadTs?: string;
  parameters?: Record<string, string>;
  /** The check's violation count (all_violations_count), for the job parameter of that name. */
  violations?: number;
}

/**
 * Retraining requests as the drift watch needs them (the approvals service implements it; this port
 * keeps drift/ from importing approvals/).
 */
export interface DriftRetrainer {
  /** The model and job a monitor's Retrain runs; throws UserError when the policy names none. */
  retrainTarget(monitor: string): { model: string; jobId: number; parameters?: Record<string, string> };
  requestRetrain(input: DriftRetrainRequest): Promise<Reply>;
  /** The pending retraining request of a model, to link the alert to it. */
  findRetrainRequest?(model: string): Promise<{ id: string; channel?: string; ts?: string } | undefined>;
}

/** What one check reads through and delivers to. */
export interface DriftCheckDeps {
  warehouse: Warehouse;
  monitors: Pick<Monitors, 'findMetricTables' | 'refresh' | 'getRefresh'>;
  serving: Pick<Serving, 'get'>;
  state: DriftStateStore;
  /** Retraining claims per alert episode: an alert shows its episode's request instead of Retrain. */
  retrains?: DriftRetrainStore;
  publisher: DriftPublisher;
  views: DriftViews;
  clock: Clock;
  logger?: Logger;
  /** Start, ok and error reports (a log line, a monitoring check-in). */
  report?: (event: DriftCheckEvent) => void;
  /** Waiting for a monitor refresh (refreshFirst). */
  refreshWait?: { initialDelayMs?: number; maxDelayMs?: number; timeoutMs?: number };
  /** Shutdown: ends a refresh wait at once; the check then stops without posting. */
  signal?: AbortSignal;
}

export type DriftCheckEvent =
  | { kind: 'start'; monitor: string; at: number }
  | { kind: 'ok'; monitor: string; at: number; result: DriftCheckResult }
  | { kind: 'error'; monitor: string; at: number; error: unknown };

export interface DriftCheckOptions {
  /** Also post the result of rules with nothing new (healthy or not): the drift command. */
  report?: boolean;
  /** Where the report goes (default: the monitor's channel). */
  reportChannel?: string;
}

export interface DriftCheckResult extends CheckSummary {
  /** SQL statements issued (one per metric table in use). */
  queries: number;
  rowsFetched: number;
  /** First window start read. */
  since: Date;
  evaluations: RuleEvaluation[];
  /** Problems delivering to Slack (the check itself worked). */
  deliveryErrors: string[];
  refreshNote?: string;
}

/** One check of one monitor (jobs/drift-check.ts `runDriftCheck`), passed to the watch by wiring. */
export type RunDriftCheck = (
  deps: DriftCheckDeps,
  monitor: WatchedMonitor,
  now: Date,
  options?: DriftCheckOptions,
) => Promise<DriftCheckResult>;
