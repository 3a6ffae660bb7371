/**
 * The ledger's reads, kept cheap: ONE list call for every endpoint, then a GET only for an endpoint
 * whose list summary moved since the last tick (update time, served versions, update state) or
 * that the ledger has not seen yet (the list carries no traffic split, reference §2.3); ONE GET per
 * model for its aliases (the model list carries none), and a version GET only when an alias moved
 * (for its `created_by`). Every `fullReadEvery` ticks each endpoint is read anyway, in case
 * Databricks left its update time alone.
 */
import type { ChangeStore } from '../changes/store.js';
import { UserError } from '../domain/errors.js';
import type { Registry } from '../domain/ports/registry.js';
import type { EndpointConfig, EndpointSummary, Serving } from '../domain/ports/serving.js';
import { sameState } from './decide.js';
import { targetKey, type WatchSet } from './targets.js';
import type { BotChange, LedgerTarget, Observation, Snapshot, TargetState } from './types.js';

export interface LedgerReadDeps {
  serving: Pick<Serving, 'list' | 'get'>;
  registry: Pick<Registry, 'getModel' | 'getVersion'>;
  changes: Pick<ChangeStore, 'recentAudit' | 'get'>;
}

/** What read keeps between ticks (in memory: after a restart every endpoint is read once). */
export interface ReadCache {
  /** List-summary fingerprint per endpoint key, as of its last GET. */
  summaries: Map<string, string>;
  ticks: number;
}

export const newReadCache = (): ReadCache => ({ summaries: new Map(), ticks: 0 });

export interface LedgerRead {
  observations: Observation[];
  botChanges: Map<string, BotChange[]>;
  /** Targets that could not be read this tick (left as they were). */
  failures: Array<{ what: string; error: unknown }>;
}

const summaryFingerprint = (s: EndpointSummary): string =>
  JSON.stringify([
    s.updatedAt?.getTime() ?? null,
    s.updateState,
    s.ready,
    s.servedVersions.map((v) => `${v.name}|${v.modelName.toLowerCase()}|${v.modelVersion}`).sort(),
  ]);

/** A config as the ledger keeps it: without the deployment state of the moment. */
function stripState(config: EndpointConfig): EndpointConfig {
  return {
    servedVersions: config.servedVersions.map(({ state: _s, stateMessage: _m, ...v }) => v),
    traffic: config.traffic.map((r) => ({ ...r })),
    ...(config.configVersion !== undefined ? { configVersion: config.configVersion } : {}),
  };
}

const isCode = (e: unknown, code: string): boolean => e instanceof UserError && e.code === code;

async function readEndpoints(
  deps: LedgerReadDeps,
  names: readonly string[],
  snapshots: ReadonlyMap<string, Snapshot>,
  cache: ReadCache,
  fullRead: boolean,
  out: LedgerRead,
): Promise<void> {
  if (names.length === 0) return;
  let summaries: EndpointSummary[];
  try {
    summaries = await deps.serving.list();
  } catch (error) {
    out.failures.push({ what: 'serving endpoints', error });
    return;
  }
  const byName = new Map(summaries.map((s) => [s.name, s]));
  for (const endpoint of names) {
    const target: LedgerTarget = { kind: 'endpoint', endpoint };
    const key = targetKey(target);
    const summary = byName.get(endpoint);
    if (!summary) {
      cache.summaries.delete(key);
      out.observations.push({ key, target, state: { kind: 'endpoint', config: null }, facts: {} });
      continue;
    }
    const fp = summaryFingerprint(summary);
    if (!fullRead && snapshots.has(key) && cache.summaries.get(key) === fp) continue;
    try {
      const ep = await deps.serving.get(endpoint);
      const state: TargetState = { kind: 'endpoint', config: ep.current ? stripState(ep.current) : null };
      out.observations.push({
        key,
        target,
        state,
        facts: {
          ...(ep.creator ? { endpointCreator: ep.creator } : {}),
          ...(ep.updatedAt ? { endpointUpdatedAt: ep.updatedAt.getTime() } : {}),
          ...(ep.current?.configVersion !== undefined ? { configVersion: ep.current.configVersion } : {}),
        },
      });
      cache.summaries.set(key, fp);
    } catch (error) {
      if (isCode(error, 'endpoint_not_found')) {
        out.observations.push({ key, target, state: { kind: 'endpoint', config: null }, facts: {} });
      } else {
        out.failures.push({ what: `endpoint ${endpoint}`, error });
      }
    }
  }
}

async function readAliases(
  deps: LedgerReadDeps,
  models: readonly string[],
  snapshots: ReadonlyMap<string, Snapshot>,
  expectedAliases: (model: string) => readonly string[],
  out: LedgerRead,
): Promise<void> {
  for (const model of models) {
    let aliases: Array<{ alias: string; version: number }>;
    try {
      aliases = (await deps.registry.getModel(model)).aliases;
    } catch (error) {
      if (!isCode(error, 'model_not_found')) {
        out.failures.push({ what: `model ${model}`, error });
        continue;
      }
      aliases = [];
    }
    // Aliases the ledger knew of and that are gone now read as "not set".
    const known = [...snapshots.values()].flatMap((s) =>
      s.target.kind === 'alias' && s.target.model.toLowerCase() === model.toLowerCase()
        ? [s.target.alias]
        : [],
    );
    const seen = new Set<string>();
    // So are the aliases the policy cares about (Production, bound and gated ones), set or not.
    const all = [
      ...aliases.map((a) => ({ alias: a.alias, version: a.version as number | null })),
      ...known.map((alias) => ({ alias, version: null })),
      ...expectedAliases(model).map((alias) => ({ alias, version: null })),
    ];
    for (const { alias, version } of all) {
      if (seen.has(alias.toLowerCase())) continue;
      seen.add(alias.toLowerCase());
      const target: LedgerTarget = { kind: 'alias', model, alias };
      const key = targetKey(target);
      const snapshot = snapshots.get(key);
      const moved =
        snapshot !== undefined && snapshot.after.kind === 'alias' && snapshot.after.version !== version;
      const obs: Observation = { key, target, state: { kind: 'alias', version }, facts: {} };
      if (moved && version !== null) {
        // Aliases carry no actor or time; the version's registration is what the API tells.
        try {
          const v = await deps.registry.getVersion(model, version);
          if (v.createdBy) obs.facts.versionCreatedBy = v.createdBy;
          obs.facts.versionCreatedAt = v.createdAt.getTime();
        } catch {
          // The move is recorded all the same; only the "who" is missing.
        }
      }
      out.observations.push(obs);
    }
  }
}

/** The bot's applied changes to the watched targets since `since`, from the change store's audit log. */
async function readBotChanges(
  deps: LedgerReadDeps,
  keys: readonly string[],
  since: number,
): Promise<Map<string, BotChange[]>> {
  const byKey = new Map<string, BotChange[]>();
  for (const key of keys) {
    const list: BotChange[] = [];
    for (const row of await deps.changes.recentAudit({ target: key, action: 'applied', since, limit: 20 })) {
      if (!row.changeId) continue;
      const change = await deps.changes.get(row.changeId);
      if (!change) continue;
      const plan = change.plan;
      const after: TargetState =
        plan.kind === 'endpoint'
          ? { kind: 'endpoint', config: plan.after }
          : { kind: 'alias', version: plan.toVersion };
      list.push({
        changeId: change.id,
        key,
        appliedAt: row.at,
        appliedBy: row.actor,
        after,
        ...(change.expectConfigVersion !== undefined
          ? { expectConfigVersion: change.expectConfigVersion }
          : {}),
      });
    }
    if (list.length > 0) byKey.set(key, list);
  }
  return byKey;
}

/**
 * One tick's reads.
 *
 * @example const read = await readLedger(deps, watchSet(policy, await store.keys()), await store.snapshots(), cache, { now, lookbackMs, fullReadEvery: 10 });
 */
export async function readLedger(
  deps: LedgerReadDeps,
  watch: WatchSet,
  snapshots: ReadonlyMap<string, Snapshot>,
  cache: ReadCache,
  options: {
    now: number;
    lookbackMs: number;
    fullReadEvery: number;
    /** Aliases to follow on a model even while they are not set. */
    expectedAliases?: (model: string) => readonly string[];
  },
): Promise<LedgerRead> {
  const out: LedgerRead = { observations: [], botChanges: new Map(), failures: [] };
  const fullRead = options.fullReadEvery > 0 && cache.ticks % options.fullReadEvery === 0;
  cache.ticks++;
  await readEndpoints(deps, watch.endpoints, snapshots, cache, fullRead, out);
  await readAliases(deps, watch.models, snapshots, options.expectedAliases ?? (() => []), out);
  // Only a changed target needs its bot changes.
  const changed = out.observations
    .filter((o) => {
      const before = snapshots.get(o.key);
      return before !== undefined && !sameState(before.after, o.state);
    })
    .map((o) => o.key)
    .filter((key, i, all) => all.indexOf(key) === i);
  const oldest = Math.min(options.now, ...changed.map((k) => snapshots.get(k)?.detectedAt ?? options.now));
  out.botChanges = await readBotChanges(deps, changed, oldest - options.lookbackMs);
  return out;
}
