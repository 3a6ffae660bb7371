/**
 * The ledger's decision, pure: this tick's observations + the last state seen of each target + the
 * changes the bot applied → the entries to record. A target seen for the first time gets a
 * baseline (never posted); a difference is the bot's when one of its changes explains it, and
 * out-of-band otherwise, posted when the target is gated.
 */
import { sameConfig } from '../domain/endpoint-config.js';
import type { BotChange, NewLedgerEntry, Observation, Snapshot, TargetState } from './types.js';

export interface DecideInput {
  observations: readonly Observation[];
  /** The last entry per target key. */
  snapshots: ReadonlyMap<string, Snapshot>;
  /** The bot's applied changes per target key, any order. */
  botChanges: ReadonlyMap<string, readonly BotChange[]>;
  /** Change ids already attributed to an entry (one change explains one difference). */
  claimed: ReadonlySet<string>;
  /** The channel an out-of-band change of this target is posted to; undefined: not gated. */
  notifyChannel: (o: Observation) => string | undefined;
  now: number;
  /**
   * How far before the last observation a bot change may have started and still explain the
   * difference (a rollout that began before the previous tick and finished after it).
   */
  lookbackMs: number;
}

/**
 * Whether two states are the same (configs compared by what they serve, order ignored).
 *
 * @example sameState({ kind: 'alias', version: 3 }, { kind: 'alias', version: 3 }) // true
 */
export function sameState(a: TargetState, b: TargetState): boolean {
  if (a.kind === 'alias' || b.kind === 'alias') {
    return a.kind === 'alias' && b.kind === 'alias' && a.version === b.version;
  }
  if (a.config === null || b.config === null) return a.config === b.config;
  return sameConfig(a.config, b.config);
}

/** The bot change that explains moving to `obs.state`: its config version first, then its content. */
function matchBotChange(obs: Observation, snapshot: Snapshot, input: DecideInput): BotChange | undefined {
  const earliest = snapshot.detectedAt - input.lookbackMs;
  const candidates = (input.botChanges.get(obs.key) ?? [])
    .filter((c) => !input.claimed.has(c.changeId) && c.appliedAt >= earliest && c.appliedAt <= input.now)
    .sort((a, b) => b.appliedAt - a.appliedAt);
  const version = obs.facts.configVersion;
  const byVersion = candidates.find(
    (c) =>
      version !== undefined &&
      c.expectConfigVersion === version &&
      // A version number alone is not proof: the content must match too.
      sameState(c.after, obs.state),
  );
  return byVersion ?? candidates.find((c) => sameState(c.after, obs.state));
}

/**
 * A new alias of a model the ledger already follows was "not set" when the model was last read:
 * its appearance is a change, not a first sighting.
 */
function impliedSnapshot(obs: Observation, snapshots: ReadonlyMap<string, Snapshot>): Snapshot | undefined {
  const target = obs.target;
  if (target.kind !== 'alias') return undefined;
  let last: Snapshot | undefined;
  for (const s of snapshots.values()) {
    if (s.target.kind !== 'alias' || s.target.model.toLowerCase() !== target.model.toLowerCase()) continue;
    if (!last || s.detectedAt > last.detectedAt) last = s;
  }
  if (!last) return undefined;
  return {
    seq: 0,
    key: obs.key,
    target,
    after: { kind: 'alias', version: null },
    detectedAt: last.detectedAt,
  };
}

/** The time a change most likely happened: the endpoint's own update time when it lies in the window. */
function changeTime(obs: Observation, notBefore: number, now: number): number {
  const updated = obs.facts.endpointUpdatedAt;
  if (obs.target.kind === 'endpoint' && updated !== undefined && updated > notBefore && updated <= now) {
    return updated;
  }
  return now;
}

/**
 * @example decideLedger({ observations, snapshots, botChanges, claimed, notifyChannel, now, lookbackMs })
 * // [{ key: 'endpoint:churn-endpoint', source: { kind: 'out_of_band', … }, notify: 'C0APPROVALS', … }]
 */
export function decideLedger(input: DecideInput): NewLedgerEntry[] {
  const entries: NewLedgerEntry[] = [];
  const claimed = new Set(input.claimed);
  for (const obs of input.observations) {
    const snapshot = input.snapshots.get(obs.key) ?? impliedSnapshot(obs, input.snapshots);
    const base = { key: obs.key, target: obs.target, after: obs.state, detectedAt: input.now };
    if (!snapshot) {
      entries.push({ ...base, before: null, source: { kind: 'baseline' }, at: input.now });
      continue;
    }
    if (sameState(snapshot.after, obs.state)) continue;
    const bot = matchBotChange(obs, snapshot, { ...input, claimed });
    const at = changeTime(obs, snapshot.detectedAt, input.now);
    const common = { ...base, before: snapshot.after, at, notBefore: snapshot.detectedAt };
    if (bot) {
      claimed.add(bot.changeId);
      if (bot.appliedAt > common.at) common.at = Math.min(input.now, bot.appliedAt);
      entries.push({ ...common, source: { kind: 'bot', changeId: bot.changeId, appliedBy: bot.appliedBy } });
      continue;
    }
    const notify = input.notifyChannel(obs);
    entries.push({
      ...common,
      source: { kind: 'out_of_band', facts: obs.facts },
      ...(notify ? { notify } : {}),
    });
  }
  return entries;
}
