/**
 * The services of one process, built from its adapters in dependency order and never changed
 * after: stores over the one connection, the change pipeline, approvals (which gate the pipeline),
 * the drift watch, and what the command handlers may use.
 */
import { createMonitorFigures } from '../approvals/figures.js';
import {
  type ApprovalService,
  type BackoffOptions,
  createApprovalService,
  gateChanges,
} from '../approvals/service.js';
import { type ApprovalStore, createApprovalStore } from '../approvals/store.js';
import { createChangePipeline, type RunningChangePipeline } from '../changes/pipeline.js';
import { buildPlanFor, type PlanDeps } from '../changes/plan/index.js';
import { type ChangeStore, createChangeStore, type Ownership } from '../changes/store.js';
import { chartRenderers } from '../charts/renderers.js';
import type { CommandDeps } from '../commands/deps.js';
import { autoApplies, isProtected } from '../config/access.js';
import type { Policy } from '../config/policy.js';
import type { Plan } from '../domain/change.js';
import type { WaitForRolloutOptions } from '../domain/rollout.js';
import { createDriftStateStore, type DriftStateStore } from '../drift/state-store.js';
import { createDriftWatch, type DriftSettings, type DriftWatch } from '../drift/watch.js';
import { runDriftCheck } from '../jobs/drift-check.js';
import { runLedger } from '../jobs/ledger.js';
import { createLedgerService, type LedgerService } from '../ledger/service.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { createOutbox, type Outbox, type OutboxBackoff } from '../outbox/outbox.js';
import { createOutboxStore } from '../outbox/store.js';
import { driftActionViews } from '../slack/blocks/drift.js';
import { buildUndeliveredNotice } from '../slack/blocks/undelivered.js';
import {
  approvalViews,
  commandViews,
  driftViews,
  ledgerViews,
  pipelineViews,
} from '../slack/blocks/views.js';
import type { Adapters } from './adapters.js';

export interface ServiceSettings {
  policy: Policy;
  clock: Clock;
  logger: Logger;
  /** Rollout polling and timeout. */
  rolloutWait?: Pick<WaitForRolloutOptions, 'initialDelayMs' | 'maxDelayMs' | 'timeoutMs' | 'backoffFactor'>;
  /** How approved executions follow job runs (polling, timeout). */
  approvalWait?: BackoffOptions | undefined;
  /** Drift watch settings: forced renderer, schedule override (or false: none), QuickChart fetch. */
  drift?: DriftSettings | undefined;
  /** Aborted at shutdown: ends every backoff sleeping in a poll. */
  signal: AbortSignal;
  /** Who owns the work this process starts, and the lease (none: nothing is ever held). */
  ownership?: Ownership | undefined;
  /** Slack delivery: retry backoff, and when an owed message counts as stuck. */
  outbox?: { backoff?: Partial<OutboxBackoff>; stuckAfterMs?: number } | undefined;
}

export interface Services {
  store: ChangeStore;
  /** Approval requests and their votes. */
  requests: ApprovalStore;
  pipeline: RunningChangePipeline;
  approvals: ApprovalService;
  /** The drift watch and its state, when the policy has monitors. */
  drift?: (DriftWatch & { state: DriftStateStore }) | undefined;
  /** The ledger of every change to the watched endpoints and aliases (its tick is a scheduled job). */
  ledger: LedgerService;
  /** What the command handlers see; gated changes already route to approval requests. */
  commands: CommandDeps;
  /** Every message the bot owes Slack, stored before it is sent and delivered until Slack takes it. */
  outbox: Outbox;
}

/**
 * @example const services = createServices(adapters, { policy, clock, logger, signal });
 */
export function createServices(adapters: Adapters, s: ServiceSettings): Services {
  const { policy, clock, logger } = s;
  const { db, serving, registry, monitors, warehouse } = adapters;
  const workspaceHost = adapters.http.host;
  const defaults = policy.defaults;

  const store = createChangeStore(db, clock, s.ownership);
  // Approval requests share the connection and the change store's append-only audit log.
  const requests = createApprovalStore(db, clock.now, s.ownership);
  // Progress, outcomes, approval requests and thread lines go through the outbox (durable).
  const outbox = createOutbox({
    store: createOutboxStore(db, clock),
    slack: adapters.outboxSlack,
    fallback: adapters.fallback,
    views: { undelivered: buildUndeliveredNotice },
    audit: (entry) => store.audit(entry),
    clock,
    logger,
    ...(s.outbox?.backoff ? { backoff: s.outbox.backoff } : {}),
    ...(s.outbox?.stuckAfterMs !== undefined ? { stuckAfterMs: s.outbox.stuckAfterMs } : {}),
  });
  const history = { previousConfig: async (endpoint: string) => await store.previousConfig(endpoint) };
  const planDeps: PlanDeps = { serving, registry, history, defaults };
  const buildPlan = (input: Parameters<typeof buildPlanFor>[0]) => buildPlanFor(input, planDeps);
  const endpointOf = (plan: Plan) => (plan.kind === 'endpoint' ? plan.endpoint : undefined);

  const pipeline = createChangePipeline({
    store,
    serving,
    registry,
    messenger: outbox.messenger,
    clock,
    views: pipelineViews,
    buildPlan,
    workspaceHost,
    autoApplies: (subcommand, plan) => autoApplies(policy, subcommand, endpointOf(plan)),
    needsConfirmation: (plan) => isProtected(policy, endpointOf(plan)),
    ...(policy.planExpiresAfter !== undefined ? { planExpiresAfterMs: policy.planExpiresAfter } : {}),
    onError: (err, id) => logger.error(`[${id}] change pipeline:`, err),
    ...(s.rolloutWait ? { waitOptions: s.rolloutWait } : {}),
  });

  // The monitors' latest figures, for approvers, when there is a warehouse to read them through.
  const figures =
    warehouse && policy.monitors
      ? createMonitorFigures({ warehouse, monitors, monitorsByName: policy.monitors, defaults, clock })
      : undefined;
  const approvals = createApprovalService({
    policy,
    defaults,
    store,
    requests,
    pipeline,
    views: approvalViews,
    buildPlan,
    registry,
    mlflow: adapters.mlflow,
    jobs: adapters.jobs,
    jobSettings: adapters.jobSettings,
    messenger: outbox.messenger,
    groupsOf: (userId) => adapters.directory.groupsOf(userId),
    clock,
    workspaceHost,
    onError: (err, id) => logger.error(`[${id}] approvals:`, err),
    ...(figures ? { figures } : {}),
    ...(s.approvalWait ? { wait: s.approvalWait } : {}),
  });

  const state = Object.keys(policy.monitors ?? {}).length > 0 ? createDriftStateStore(db) : undefined;
  const watch = state
    ? createDriftWatch({
        policy,
        state,
        warehouse,
        monitors,
        serving,
        publisher: adapters.publisher,
        views: driftViews,
        actionViews: driftActionViews,
        audit: store,
        retrain: approvals,
        renderer: chartRenderers({
          quickchartHost: policy.charts?.quickchartHost,
          fetch: s.drift?.quickchartFetch,
        }),
        runCheck: runDriftCheck,
        clock,
        logger,
        signal: s.signal,
        ...(s.drift ? { settings: s.drift } : {}),
      })
    : undefined;

  const ledger = createLedgerService({
    db,
    policy,
    serving,
    registry,
    changes: store,
    messenger: adapters.messenger,
    views: ledgerViews,
    logger,
    runTick: runLedger,
  });

  const commands: CommandDeps = {
    ...planDeps,
    // Gated changes (Production, and what the policy's gates cover) become approval requests.
    changes: gateChanges(pipeline, approvals, policy),
    views: commandViews,
    clock,
    workspaceHost,
    approvals,
    ledger,
    ...(watch ? { drift: watch.commands } : {}),
  };
  return {
    store,
    requests,
    pipeline,
    approvals,
    ...(watch && state ? { drift: { ...watch, state } } : {}),
    ledger,
    commands,
    outbox,
  };
}
