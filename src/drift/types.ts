/**
 * The drift watch's own small interfaces: a monitor as the checks use it (policy entry resolved), and
 * the publisher that carries messages and chart images to Slack (implemented in slack/).
 */
import type { ChartRenderer } from '../charts/renderer.js';
import type { MonitorConfig } from '../config/policy-monitors.js';
import type { MessageRef, Reply } from '../domain/vocabulary.js';
import type { AlertView } from './alert-view.js';
import type { DriftRule } from './rules.js';

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
}

export interface FailureView {
  monitor: string;
  model: string;
  message: string;
  hint?: string;
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
  error?: { message: string; hint?: string };
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
  /** `/mlops drift`: the result of a check that posted no alert. */
  report(input: {
    monitor: string;
    model: string;
    modelId: string;
    rules: readonly ReportRule[];
    chartsInThread: boolean;
  }): DriftMessage;
  /** The ephemeral answer to `/mlops drift`. */
  checkReply(summaries: readonly CheckSummary[]): Reply;
}
