/**
 * The drift watch's own small interfaces: a monitor as the checks use it (policy entry resolved), and
 * the publisher that carries messages and chart images to Slack (implemented in slack/).
 */
import type { ChartRenderer } from '../charts/renderer.js';
import type { MessageRef, Reply } from '../commands/types.js';
import type { MonitorConfig } from '../config/policy-monitors.js';
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
