/**
 * What /mlops handlers may use, built once in the composition root. Kept apart from types.ts so
 * the vocabulary types that every layer shares import none of the services.
 */
import type { ApprovalDesk } from '../approvals/service.js';
import type { Registry } from '../domain/ports/registry.js';
import type { EndpointConfig, Serving } from '../domain/ports/serving.js';
import type { ChangePipeline, Origin, Reply } from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';

/** Everything a handler may use. Built once in the composition root. */
export interface CommandDeps {
  serving: Serving;
  registry: Registry;
  changes: ChangePipeline;
  /** Previous config of an endpoint from the bot's own history, for rollback. */
  history: { previousConfig(endpoint: string): Promise<EndpointConfig | undefined> };
  clock: Clock;
  /** Workspace base URL, for links in messages. */
  workspaceHost: string;
  defaults: { catalog: string; schema: string; endpoint?: string };
  /** Drift checks on demand; absent when no monitor or no SQL warehouse is configured. */
  drift?: DriftCommands;
  /** Retraining requests, pending approvals and the audit trail; absent where approvals are not wired. */
  approvals?: ApprovalDesk;
}

/** `/mlops drift`: runs checks now and says what was posted (drift/watch.ts implements it). */
export interface DriftCommands {
  check(monitor: string | undefined, origin: Origin): Promise<Reply>;
}
