/**
 * The services of one process, built from its adapters in dependency order and never changed
 * after: stores over the one connection, the change pipeline, approvals (which gate the pipeline),
 * the drift watch, and what the command handlers may use.
 */
import { createMonitorFigures } from '../approvals/figures.js';
import { checkApprover, gateForChange } from '../approvals/gate.js';
import { createNotifyStore } from '../approvals/notify-store.js';
import { rightsOf } from '../approvals/rights.js';
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
import { createDeploymentApprover } from '../deployment-jobs/approve.js';
import { createDeploymentCheck, type DeploymentCheck, linkedJobs } from '../deployment-jobs/check.js';
import { createDeploymentApprovalStore } from '../deployment-jobs/store.js';
import type { Plan } from '../domain/change.js';
import { UserError } from '../domain/errors.js';
import { resolveModelName } from '../domain/model-names.js';
import type { EndpointConfig } from '../domain/ports/serving.js';
import type { WaitForRolloutOptions } from '../domain/rollout.js';
import type { ChangePipeline } from '../domain/vocabulary.js';
import { createDriftRetrainStore } from '../drift/retrain-store.js';
import { createDriftStateStore, type DriftStateStore } from '../drift/state-store.js';
import type { DriftPublisher } from '../drift/types.js';
import { createDriftWatch, type DriftSettings, type DriftWatch } from '../drift/watch.js';
import { createHomeService, type HomeService } from '../home/service.js';
import { createHomeStore } from '../home/store.js';
import { tapMessenger } from '../home/tap.js';
import { runDriftCheck } from '../jobs/drift-check.js';
import { runLedger } from '../jobs/ledger.js';
import { createLedgerService, type LedgerService } from '../ledger/service.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { createAutoRetrain } from '../monitoring/auto-retrain.js';
import { createAutoRetrainStore } from '../monitoring/auto-retrain-store.js';
import { createMonitorDesk, type MonitorDesk } from '../monitoring/service.js';
import { createMonitorOpStore } from '../monitoring/store.js';
import { createOutbox, type Outbox, type OutboxBackoff } from '../outbox/outbox.js';
import { createOutboxStore } from '../outbox/store.js';
import { createRolloutDriver, type RolloutDriver } from '../rollouts/driver.js';
import { createRolloutService, type RolloutService } from '../rollouts/service.js';
import { createRolloutStore, type RolloutStore } from '../rollouts/store.js';
import type { Rollout } from '../rollouts/types.js';
import { createScoring, type Scoring } from '../scoring/service.js';
import { createScoreRunStore } from '../scoring/store.js';
import { driftActionViews } from '../slack/blocks/drift.js';
import { describeError } from '../slack/blocks/errors.js';
import { buildHomeView } from '../slack/blocks/home.js';
import { monitorViews } from '../slack/blocks/monitor.js';
import { rolloutViews } from '../slack/blocks/rollout.js';
import { scoringViews } from '../slack/blocks/scoring.js';
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
  /** App Home: how long changes are gathered before the Homes are refreshed. */
  home?: { debounceMs?: number } | undefined;
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
  /** Canary rollouts: the store, the driver (its tick is a scheduled job) and the buttons. */
  rollouts: { store: RolloutStore; driver: RolloutDriver; service: RolloutService };
  /** Each user's App Home, refreshed when something it shows changes. */
  home: HomeService;
  /** `/mlops score`: batch-scoring runs. */
  scoring: Scoring;
  /** `/mlops monitor`: creates, refreshes and status of the policy's monitors. */
  monitoring: MonitorDesk;
  /** The deployment-job check (its tick is a scheduled job), when the policy links deployment jobs. */
  deploymentJobs?: DeploymentCheck | undefined;
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
  // The rollouts are built after the pipeline (they read its store); the pipeline asks them lazily.
  let rolloutsRef: Services['rollouts'] | undefined;
  const rolloutStore = () => rolloutsRef!.store;
  const driftState = Object.keys(policy.monitors ?? {}).length > 0 ? createDriftStateStore(db) : undefined;
  // Approval requests share the connection and the change store's append-only audit log.
  const requests = createApprovalStore(db, clock.now, s.ownership);
  // Progress, outcomes, approval requests and thread lines go through the outbox (durable).
  const outbox = createOutbox({
    // This replica holds a message's send lease while sending it; a dead holder's is taken after the lease.
    store: createOutboxStore(db, clock, {
      ...(s.ownership ? { owner: s.ownership.instance, leaseMs: s.ownership.leaseMs } : {}),
    }),
    slack: adapters.outboxSlack,
    fallback: adapters.fallback,
    views: { undelivered: buildUndeliveredNotice },
    audit: (entry) => store.audit(entry),
    clock,
    logger,
    ...(s.outbox?.backoff ? { backoff: s.outbox.backoff } : {}),
    ...(s.outbox?.stuckAfterMs !== undefined ? { stuckAfterMs: s.outbox.stuckAfterMs } : {}),
  });
  // Homes are refreshed after every message a change, a request or an alert sends (the functions
  // below read services built further down, only once the bot runs).
  const home = createHomeService({
    store: createHomeStore(db),
    pending: () => approvals.pending(),
    mayVote: async (r, userId) => (await rightsOf(r, { userId }, (u) => adapters.directory.groupsOf(u))).ok,
    changesInFlight: () => store.inFlight(),
    listEndpoints: () => serving.list(),
    knownConfigs: async () => {
      const configs = new Map<string, EndpointConfig>();
      for (const snap of (await ledger.store.snapshots()).values()) {
        if (snap.target.kind === 'endpoint' && snap.after.kind === 'endpoint' && snap.after.config) {
          configs.set(snap.target.endpoint, snap.after.config);
        }
      }
      return configs;
    },
    ...(driftState ? { openAlerts: () => driftState.openAlerts() } : {}),
    publish: async (data) => {
      await adapters.app.client.views.publish({ user_id: data.userId, view: buildHomeView(data) as never });
    },
    clock,
    onError: (e, what) => logger.warn(`${what}:`, e instanceof Error ? e.message : e),
    ...(s.home?.debounceMs !== undefined ? { debounceMs: s.home.debounceMs } : {}),
  });
  const messenger = tapMessenger(outbox.messenger, () => home.changed());
  const publisher: DriftPublisher = {
    ...adapters.publisher,
    async post(channel, message, threadTs) {
      const ref = await adapters.publisher.post(channel, message, threadTs);
      home.changed();
      return ref;
    },
    async update(ref, message) {
      await adapters.publisher.update(ref, message);
      home.changed();
    },
  };
  const history = { previousConfig: async (endpoint: string) => await store.previousConfig(endpoint) };
  const planDeps: PlanDeps = {
    serving,
    registry,
    history,
    defaults,
    enableOnDeploy: (endpoint) => {
      const t = Object.hasOwn(policy.inferenceTables ?? {}, endpoint)
        ? policy.inferenceTables![endpoint]
        : undefined;
      return t?.enableOnDeploy
        ? { enabled: true, catalog: t.catalog, schema: t.schema, tablePrefix: t.prefix }
        : undefined;
    },
  };
  const buildPlan = (input: Parameters<typeof buildPlanFor>[0]) => buildPlanFor(input, planDeps);
  const endpointOf = (plan: Plan) => (plan.kind === 'endpoint' ? plan.endpoint : undefined);

  const pipeline = createChangePipeline({
    store,
    serving,
    registry,
    messenger,
    clock,
    views: pipelineViews,
    buildPlan,
    workspaceHost,
    autoApplies: (subcommand, plan) => autoApplies(policy, subcommand, endpointOf(plan)),
    needsConfirmation: (plan) => isProtected(policy, endpointOf(plan)),
    ...(policy.planExpiresAfter !== undefined ? { planExpiresAfterMs: policy.planExpiresAfter } : {}),
    onError: (err, id) => logger.error(`[${id}] change pipeline:`, err),
    ...(s.rolloutWait ? { waitOptions: s.rolloutWait } : {}),
    heldElsewhere: async (plan) =>
      plan.kind === 'endpoint'
        ? heldError(await rolloutStore().holderOf(plan.endpoint), plan.endpoint)
        : undefined,
  });

  // The monitors' latest figures, for approvers, when there is a warehouse to read them through.
  const figures =
    warehouse && policy.monitors
      ? createMonitorFigures({ warehouse, monitors, monitorsByName: policy.monitors, defaults, clock })
      : undefined;
  // Deployment-job approvals, when the policy links deployment jobs to models.
  const linked = linkedJobs(policy);
  const deploymentStore = linked.length > 0 ? createDeploymentApprovalStore(db, clock.now) : undefined;
  const deployments = deploymentStore
    ? createDeploymentApprover({
        jobs: adapters.deploymentJobs,
        tags: adapters.versionTags,
        store: deploymentStore,
        clock,
        workspaceHost,
        ...(s.approvalWait ? { wait: s.approvalWait } : {}),
      })
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
    messenger,
    groupsOf: (userId) => adapters.directory.groupsOf(userId),
    clock,
    workspaceHost,
    onError: (err, id) => logger.error(`[${id}] approvals:`, err),
    ...(figures ? { figures } : {}),
    ...(deployments ? { deployments } : {}),
    ...(s.approvalWait ? { wait: s.approvalWait } : {}),
    notify: { store: createNotifyStore(db), dms: adapters.dms, groups: adapters.directory },
  });
  const deploymentJobs = deploymentStore
    ? createDeploymentCheck({
        linked,
        jobs: adapters.deploymentJobs,
        tags: adapters.versionTags,
        store: deploymentStore,
        approvals,
        workspaceHost,
        report: (model, e) => logger.error(`deployment job of ${model}:`, e),
      })
    : undefined;

  const state = driftState;
  // The bot's own user id is the requester of automatic retrain requests (asked once, when needed).
  let botUserId: Promise<string> | undefined;
  const autoRetrain =
    state && Object.values(policy.monitors ?? {}).some((m) => m.autoRetrain === true)
      ? createAutoRetrain({
          store: createAutoRetrainStore(db, clock),
          state,
          retrain: approvals,
          botUserId: () => {
            botUserId ??= adapters.app.client.auth
              .test()
              .then((r) => r.user_id ?? 'modelgate')
              .catch((e: unknown) => {
                botUserId = undefined; // asked again next time
                throw e;
              });
            return botUserId;
          },
          logger,
        })
      : undefined;
  const watch = state
    ? createDriftWatch({
        policy,
        state,
        retrains: createDriftRetrainStore(db),
        warehouse,
        monitors,
        serving,
        publisher,
        views: driftViews,
        actionViews: driftActionViews,
        audit: store,
        retrain: {
          retrainTarget: (name) => approvals.retrainTarget(name),
          requestRetrain: (input) => approvals.requestRetrain(input),
          // The alert links to the request its Retrain made (or found pending).
          findRetrainRequest: async (model) => {
            const r = (await approvals.pending()).find((p) => p.target === `retrain:${model}`);
            return r && { id: r.id, ...(r.message ?? { channel: policy.approvalChannel ?? r.channel }) };
          },
        },
        renderer: chartRenderers({
          quickchartHost: policy.charts?.quickchartHost,
          fetch: s.drift?.quickchartFetch,
        }),
        runCheck: runDriftCheck,
        clock,
        logger,
        signal: s.signal,
        ...(autoRetrain ? { afterCheck: autoRetrain } : {}),
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

  const rollouts = createRollouts(adapters, s, store, outbox.messenger);
  rolloutsRef = rollouts;
  const scoring = createScoring({
    config: policy.scoring,
    registry,
    tables: adapters.tables,
    jobs: adapters.jobs,
    jobSettings: adapters.jobSettings,
    warehouse,
    store: createScoreRunStore(db, clock, s.ownership),
    messenger: outbox.messenger,
    views: scoringViews,
    clock,
    workspaceHost,
    wait: s.approvalWait,
    audit: (entry) => store.audit(entry),
    onError: (err, id) => logger.error(`[${id}] batch scoring:`, err),
  });
  const monitoring = createMonitorDesk({
    monitorsByName: policy.monitors ?? {},
    monitors,
    tables: adapters.tables,
    store: createMonitorOpStore(db, clock, s.ownership),
    messenger: outbox.messenger,
    views: monitorViews,
    clock,
    workspaceHost,
    planExpiresAfterMs: policy.planExpiresAfter,
    audit: (entry) => store.audit(entry),
    ...(s.approvalWait ? { wait: s.approvalWait } : {}),
    onError: (err, id) => logger.error(`[${id}] monitor set-up:`, err),
  });

  const commands: CommandDeps = {
    ...planDeps,
    // Gated changes (Production, and what the policy's gates cover) become approval requests; an
    // endpoint a canary rollout holds takes no other change until it ends.
    changes: heldByRollouts(gateChanges(pipeline, approvals, policy), rollouts.service),
    rollouts: rollouts.service,
    views: commandViews,
    clock,
    workspaceHost,
    approvals,
    ledger,
    scoring,
    monitoring,
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
    rollouts,
    home,
    scoring,
    monitoring,
    ...(deploymentJobs ? { deploymentJobs } : {}),
  };
}

/** The rollout store, driver and service, over the same connection, outbox and clients. */
function createRollouts(
  adapters: Adapters,
  s: ServiceSettings,
  changes: ChangeStore,
  messenger: Outbox['messenger'],
): Services['rollouts'] {
  const { policy, clock, logger } = s;
  const store = createRolloutStore(adapters.db, clock);
  const driver = createRolloutDriver({
    store,
    serving: adapters.serving,
    registry: adapters.registry,
    warehouse: adapters.warehouse,
    messenger,
    views: rolloutViews,
    describeError,
    clock,
    owner: s.ownership?.instance ?? 'modelgate',
    leaseMs: s.ownership?.leaseMs ?? 30_000,
    workspaceHost: adapters.http.host,
    ...(s.rolloutWait ? { wait: s.rolloutWait } : {}),
    onError: (err, id) => logger.error(`[${id}] rollout driver:`, err),
  });
  const resolveModel = (name: string) => resolveModelName(name, policy.defaults);
  const service = createRolloutService({
    store,
    driver,
    serving: adapters.serving,
    views: rolloutViews,
    clock,
    planDeps: {
      serving: adapters.serving,
      registry: adapters.registry,
      warehouse: adapters.warehouse,
      policy,
      resolveModel,
      now: () => clock.now(),
      aliasGated: (model, alias) =>
        gateForChange(policy, 'promote', {
          kind: 'alias',
          subcommand: 'promote',
          model,
          alias,
          toVersion: 0,
          fingerprint: '',
        }) !== undefined,
      // A rollout is a series of splits of the endpoint: the gate of a split there covers it.
      gateFor: (endpoint) => {
        const ref = gateForChange(policy, 'split', {
          kind: 'endpoint',
          subcommand: 'split',
          endpoint,
          create: false,
          after: { servedVersions: [], traffic: [] },
          fingerprint: '',
        });
        if (!ref) return undefined;
        const g = ref.gate;
        return {
          name: ref.name,
          approvals: g?.approvals ?? 1,
          users: g?.approvers.users ?? [],
          groups: g?.approvers.groups ?? [],
        };
      },
    },
    changeHolding: async (endpoint) => {
      const c = await changes.activeFor(`endpoint:${endpoint}`);
      return c
        ? { id: c.id, requester: c.requester, ...(c.appliedBy ? { appliedBy: c.appliedBy } : {}) }
        : undefined;
    },
    groupsOf: (userId) => adapters.directory.groupsOf(userId),
    checkApprover: (approvers, actor, groups, requester) =>
      checkApprover(approvers, actor, groups, requester),
  });
  return { store, driver, service };
}

/** Refuses a change to an endpoint a canary rollout holds, saying who holds it. */
function heldByRollouts(changes: ChangePipeline, rollouts: Pick<RolloutService, 'holderOf'>): ChangePipeline {
  return {
    async propose(request) {
      const plan = request.plan;
      if (plan.kind === 'endpoint') {
        const holder = await rollouts.holderOf(plan.endpoint);
        const held = heldError(holder, plan.endpoint);
        if (held) throw held;
      }
      return changes.propose(request);
    },
  };
}

/** The refusal of a change to an endpoint a rollout holds; undefined when none does. */
function heldError(holder: Rollout | undefined, endpoint: string): UserError | undefined {
  return holder
    ? new UserError('endpoint_held_by_rollout', {
        endpoint,
        rolloutId: holder.id,
        requester: holder.requester,
        ...(holder.startedBy ? { startedBy: holder.startedBy } : {}),
      })
    : undefined;
}
