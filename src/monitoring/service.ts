/**
 * `/mlops monitor create|refresh|status`: the policy's monitors on Databricks. A create is planned
 * and confirmed like any change: the plan (what the bot will ask Databricks for) is checked against
 * Unity Catalog first and refused with the fix when it cannot work; only its requester's Create
 * click, within the plan's lifetime, sends it (a compare-and-set: one click wins), and the channel
 * message ends with how it went. A lost answer or a restart is settled by reading the monitor. A
 * refresh is started once and followed (lib/poll) to SUCCESS, or to Databricks' reason and a link.
 */
import { describeFailure } from '../changes/apply.js';
import type { MonitorConfig } from '../config/policy-monitors.js';
import { type DescribeError, UserError } from '../domain/errors.js';
import type { Messenger } from '../domain/ports/messenger.js';
import type { MonitorInfo, MonitorRefresh, MonitorSpec, Monitors } from '../domain/ports/monitors.js';
import type { Tables } from '../domain/ports/tables.js';
import type { Actor, MessageRef, Origin, Reply } from '../domain/vocabulary.js';
import { createBackground } from '../lib/background.js';
import type { Clock } from '../lib/clock.js';
import { poll } from '../lib/poll.js';
import { checkSetup, monitorSpecOf } from './plan.js';
import type { MonitorOp, MonitorOpResult, MonitorOpStore } from './store.js';

/** What `/mlops monitor status` shows of one policy monitor. */
export interface MonitorStatusView {
  monitor: string;
  table: string;
  /** Undefined: the table has no monitor (yet). */
  info?: MonitorInfo;
  /** Whether the policy says how to create it. */
  canCreate: boolean;
  /** The policy names the metric tables instead of a monitored table. */
  direct?: { profileTable: string; driftTable: string };
  /** Unity Catalog has no such table (or the bot cannot see it). */
  missingTable?: boolean;
  workspaceHost: string;
}

/** How monitor set-up looks in Slack (slack/blocks/monitor.ts). */
export interface MonitorViews {
  /** The plan, with Create and Cancel for its requester. */
  plan(
    op: MonitorOp & { spec: MonitorSpec },
    options: { expiresAfterMs: number; workspaceHost: string },
  ): Reply;
  /** The channel message of a create or a refresh while it goes, and once it ended. */
  progress(op: MonitorOp): Pick<Reply, 'text' | 'blocks'>;
  finished(op: MonitorOp, result: MonitorOpResult, workspaceHost: string): Pick<Reply, 'text' | 'blocks'>;
  /** The answer to a Create click (replaces the plan) or a Cancel click. */
  clicked(op: MonitorOp, what: 'creating' | 'cancelled'): Reply;
  /** The answer to `/mlops monitor refresh`: started, or one was running already. */
  refreshAccepted(op: MonitorOp, started: boolean): Reply;
  status(views: MonitorStatusView[]): Reply;
  describeError: DescribeError;
}

export interface MonitorDeskDeps {
  monitorsByName: Readonly<Record<string, MonitorConfig>>;
  monitors: Monitors;
  tables: Tables;
  store: MonitorOpStore;
  messenger: Messenger;
  views: MonitorViews;
  clock: Clock;
  workspaceHost: string;
  /** How long a plan stays good for Create (default 1 h, the policy's planExpiresAfter). */
  planExpiresAfterMs?: number | undefined;
  /** The append-only audit log (the change store's): creates and refreshes, who asked, how they ended. */
  audit?: (entry: {
    actor: string;
    action: string;
    target: string;
    after?: unknown;
    detail?: string;
  }) => unknown;
  /** Following a refresh: backoff and how long before giving up (default 3 h). */
  wait?: { initialDelayMs?: number; maxDelayMs?: number; timeoutMs?: number } | undefined;
  onError?: (err: unknown, correlationId: string) => void;
}

export interface MonitorDesk {
  create(monitor: string | undefined, actor: Actor, origin: Origin): Promise<Reply>;
  confirm(opId: string, actor: Actor): Promise<Reply>;
  cancel(opId: string, actor: Actor): Promise<Reply>;
  refresh(monitor: string | undefined, actor: Actor, origin: Origin): Promise<Reply>;
  status(monitor: string | undefined): Promise<Reply>;
  /** Settles creates and follows refreshes a previous process left in flight (never a live replica's). */
  resume(): Promise<number>;
  /** This replica's ops in flight keep their lease. */
  heartbeat(): Promise<void>;
  idle(): Promise<void>;
  stop(): void;
}

const DEFAULT_EXPIRY_MS = 3_600_000;
const ENDED = new Set(['SUCCESS', 'FAILED', 'CANCELED']);

/** @example const desk = createMonitorDesk({ monitorsByName: policy.monitors, monitors, tables, store, messenger, views, clock, workspaceHost }); */
export function createMonitorDesk(deps: MonitorDeskDeps): MonitorDesk {
  const { store, messenger, views, clock, workspaceHost, monitors } = deps;
  const background = createBackground({
    name: 'monitor set-up',
    ...(deps.onError ? { onError: deps.onError } : {}),
  });
  const expiresAfterMs = deps.planExpiresAfterMs ?? DEFAULT_EXPIRY_MS;
  const wait = {
    initialDelayMs: deps.wait?.initialDelayMs ?? 5_000,
    maxDelayMs: deps.wait?.maxDelayMs ?? 60_000,
    timeoutMs: deps.wait?.timeoutMs ?? 3 * 3_600_000,
  };

  function find(name: string | undefined): [string, MonitorConfig] {
    const names = Object.keys(deps.monitorsByName);
    if (names.length === 0) throw new UserError('no_monitors', {});
    const key = name?.toLowerCase() ?? (names.length === 1 ? names[0] : undefined);
    const config = key !== undefined ? deps.monitorsByName[key] : undefined;
    if (key === undefined || !config)
      throw new UserError('unknown_monitor', { name: name ?? '', monitors: names });
    return [key, config];
  }

  const tableOf = (name: string, config: MonitorConfig): string => {
    if (!config.table) throw new UserError('monitor_setup_missing', { monitor: name });
    return config.table.toLowerCase();
  };

  /** Reads Unity Catalog and refuses what cannot work; returns the spec to send. */
  async function plan(name: string, config: MonitorConfig): Promise<MonitorSpec> {
    const spec = monitorSpecOf(name, config);
    const table = await deps.tables.getTable(spec.table);
    const [baseline, outputSchemaExists, existing] = await Promise.all([
      spec.baselineTable ? deps.tables.getTable(spec.baselineTable) : Promise.resolve(undefined),
      deps.tables.schemaExists(spec.outputSchema),
      table ? monitors.describeMonitor(spec.table) : Promise.resolve(undefined),
    ]);
    checkSetup(name, spec, { table, baseline, outputSchemaExists, monitorExists: existing !== undefined });
    return spec;
  }

  async function post(op: MonitorOp): Promise<MessageRef> {
    const ref = await messenger.post(op.channel, views.progress(op), undefined, { requester: op.requester });
    await store.setMessage(op.id, ref);
    return ref;
  }

  async function end(op: MonitorOp, result: MonitorOpResult): Promise<void> {
    const status = result.kind === 'failed' ? 'failed' : 'succeeded';
    if (!(await store.finish(op.id, status, result))) return;
    await deps.audit?.({
      actor: op.decidedBy ?? op.requester,
      action: `monitor.${op.kind}_${status}`,
      target: `monitor:${op.table}`,
      after: result,
      detail: `monitor ${op.monitor} (${op.id})`,
    });
    const message = views.finished(op, result, workspaceHost);
    const delivery = { requester: op.requester, final: true };
    const ref = op.message ?? (await store.get(op.id))?.message;
    if (ref) await messenger.update(ref, message, delivery);
    else await messenger.post(op.channel, message, undefined, delivery);
  }

  const createdFrom = (info: MonitorInfo, found: boolean): MonitorOpResult => ({
    kind: 'created',
    api: info.api,
    ...(info.profileTable ? { profileTable: info.profileTable } : {}),
    ...(info.driftTable ? { driftTable: info.driftTable } : {}),
    ...(info.dashboardId ? { dashboardId: info.dashboardId } : {}),
    ...(found ? { found: true } : {}),
  });

  function failedWith(e: unknown): MonitorOpResult {
    const text = describeFailure(e, views.describeError);
    return {
      kind: 'failed',
      ...(text ?? { reason: `Something went wrong on our side (ref ${background.report(e)}).` }),
    };
  }

  async function runCreate(op: MonitorOp & { spec: MonitorSpec }): Promise<void> {
    try {
      const info = await monitors.createMonitor(op.spec);
      await end(op, createdFrom(info, false));
    } catch (e) {
      if (background.signal.aborted) return;
      // Refused outright (a 4xx, ours or Databricks'): nothing was made. Anything else may have
      // landed: Databricks is read, never assumed.
      const refused =
        e instanceof UserError || (e instanceof Error && 'status' in e && Number(e.status) < 500);
      if (!refused) {
        const settled = await settleCreate(op).catch(() => undefined);
        if (settled) return;
      }
      await end(op, failedWith(e));
    }
  }

  /** A create whose outcome is unknown: the monitor is there (ours) or it is not. */
  async function settleCreate(op: MonitorOp): Promise<boolean> {
    const info = await monitors.describeMonitor(op.table);
    if (!info) return false;
    await end(op, createdFrom(info, true));
    return true;
  }

  async function followRefresh(op: MonitorOp): Promise<void> {
    const refreshId = op.refreshId!;
    try {
      const r = await poll<MonitorRefresh, MonitorRefresh>(
        async () => {
          const seen = await monitors.getRefresh(op.table, refreshId);
          return ENDED.has(seen.state) ? { done: true, value: seen } : { done: false, seen };
        },
        { clock, signal: background.signal, ...wait },
      );
      if (r.status === 'timed_out') {
        await end(op, {
          kind: 'failed',
          refreshId,
          state: r.seen.state,
          reason: `The refresh was still ${r.seen.state} when the bot stopped following it.`,
          hint: 'See how it ends on the table’s Quality tab; `/mlops monitor status` shows it too.',
        });
        return;
      }
      const done = r.value;
      if (done.state === 'SUCCESS') {
        await end(op, {
          kind: 'refreshed',
          refreshId,
          ...(done.startedAt && done.endedAt
            ? { tookMs: done.endedAt.getTime() - done.startedAt.getTime() }
            : {}),
        });
        return;
      }
      await end(op, {
        kind: 'failed',
        refreshId,
        state: done.state,
        ...(done.message ? { message: done.message } : {}),
      });
    } catch (e) {
      if (background.signal.aborted) return;
      await end(op, { ...failedWith(e), refreshId } as MonitorOpResult);
    }
  }

  async function clickable(opId: string, actor: Actor): Promise<MonitorOp> {
    const op = await store.get(opId);
    if (op?.kind !== 'create') throw new UserError('monitor_setup_gone', { variant: 'unknown' });
    if (op.requester !== actor.userId) {
      throw new UserError('monitor_setup_gone', { variant: 'not_requester', requester: op.requester });
    }
    if (op.status !== 'proposed')
      throw new UserError('monitor_setup_gone', { variant: 'decided', status: op.status });
    return op;
  }

  return {
    async create(name, actor, origin) {
      const [key, config] = find(name);
      const spec = await plan(key, config);
      const { op } = await store.propose({
        requester: actor.userId,
        channel: origin.channelId,
        monitor: key,
        spec,
        ...(origin.triggerId ? { triggerId: origin.triggerId } : {}),
      });
      return views.plan({ ...op, spec: op.spec ?? spec }, { expiresAfterMs, workspaceHost });
    },

    async confirm(opId, actor) {
      const op = await clickable(opId, actor);
      const ageMs = clock.now() - op.createdAt;
      if (ageMs > expiresAfterMs) {
        await store.decide(op.id, 'cancelled', actor.userId);
        throw new UserError('monitor_setup_gone', { variant: 'expired', ageMs, expiresAfterMs });
      }
      // The plan is checked again: the table may have got a monitor (or lost a column) meanwhile.
      const [, config] = find(op.monitor);
      const spec = await plan(op.monitor, config);
      if (!(await store.decide(op.id, 'working', actor.userId))) {
        throw new UserError('monitor_setup_gone', { variant: 'decided', status: 'being created' });
      }
      const working = { ...op, spec, status: 'working' as const };
      const ref = await post(working);
      background.track(() => runCreate({ ...working, message: ref }));
      return views.clicked(working, 'creating');
    },

    async cancel(opId, actor) {
      const op = await clickable(opId, actor);
      if (!(await store.decide(op.id, 'cancelled', actor.userId))) {
        throw new UserError('monitor_setup_gone', { variant: 'decided', status: 'decided' });
      }
      return views.clicked({ ...op, status: 'cancelled' }, 'cancelled');
    },

    async refresh(name, actor, origin) {
      const [key, config] = find(name);
      const table = tableOf(key, config);
      const { refresh, started } = await monitors.refresh(table);
      const { op, duplicate } = await store.startRefresh({
        requester: actor.userId,
        channel: origin.channelId,
        monitor: key,
        table,
        refreshId: refresh.refreshId,
        ...(origin.triggerId ? { triggerId: origin.triggerId } : {}),
      });
      if (!duplicate) {
        const ref = await post(op);
        background.track(() => followRefresh({ ...op, message: ref }));
      }
      return views.refreshAccepted(op, started);
    },

    async status(name) {
      const targets = name !== undefined ? [find(name)] : Object.entries(deps.monitorsByName);
      if (targets.length === 0) throw new UserError('no_monitors', {});
      const shown: MonitorStatusView[] = [];
      for (const [key, config] of targets) {
        const canCreate = config.setup !== undefined;
        if (!config.table) {
          const direct = { profileTable: config.profileTable ?? '', driftTable: config.driftTable ?? '' };
          shown.push({ monitor: key, table: direct.profileTable, canCreate, direct, workspaceHost });
          continue;
        }
        const table = config.table.toLowerCase();
        try {
          const info = await monitors.describeMonitor(table);
          shown.push({ monitor: key, table, ...(info ? { info } : {}), canCreate, workspaceHost });
        } catch (e) {
          // One monitor's missing table does not hide the others.
          if (!(e instanceof UserError && e.code === 'table_not_found')) throw e;
          shown.push({ monitor: key, table, canCreate, missingTable: true, workspaceHost });
        }
      }
      return views.status(shown);
    },

    async resume() {
      // Only ops nobody follows: a live replica's keep their owner (issue #13).
      const open = await store.takeOver();
      for (const op of open) {
        if (op.kind === 'refresh' && op.refreshId !== undefined) {
          background.track(() => followRefresh(op));
        } else {
          background.track(async () => {
            // Whether the create reached Databricks before the restart is read there, not assumed.
            if (await settleCreate(op)) return;
            await end(op, {
              kind: 'failed',
              reason: 'The bot restarted before the monitor reached Databricks; nothing was created.',
              hint: `Run \`/mlops monitor create ${op.monitor}\` again.`,
            });
          });
        }
      }
      return open.length;
    },
    heartbeat: () => store.heartbeat(),
    idle: () => background.idle(),
    stop: () => background.stop(),
  };
}
