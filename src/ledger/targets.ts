/**
 * What the ledger watches and where it speaks, pure: the endpoints and models the policy names or
 * binds plus those the bot has changed; a target is gated when a policy gate covers it (the
 * Production alias, an alias a gate lists, an endpoint bound to a gated alias or listed by a gate).
 */
import { gateForChange } from '../approvals/gate.js';
import { type Policy, policyTargets } from '../config/policy.js';
import { PRODUCTION_ALIAS } from '../config/policy-gates.js';
import type { AliasPlan, EndpointPlan } from '../domain/change.js';
import { resolveModelName } from '../domain/model-names.js';
import type { LedgerTarget } from './types.js';

/**
 * The change store's name for a target, which the ledger shares.
 *
 * @example targetKey({ kind: 'alias', model: 'acme.mlops.churn_model', alias: 'Production' }) // 'alias:acme.mlops.churn_model@production'
 */
export function targetKey(t: LedgerTarget): string {
  return t.kind === 'endpoint' ? `endpoint:${t.endpoint}` : `alias:${t.model}@${t.alias.toLowerCase()}`;
}

/** The watch set: endpoint names and full model names, each once. */
export interface WatchSet {
  endpoints: string[];
  models: string[];
}

/**
 * The policy's endpoints and models plus the targets the bot changed (change-store keys).
 *
 * @example watchSet(policy, ['endpoint:fraud-endpoint']) // { endpoints: ['churn-endpoint', 'fraud-endpoint'], models: [...] }
 */
export function watchSet(policy: Policy, changedKeys: Iterable<string>): WatchSet {
  const named = policyTargets(policy);
  const endpoints = new Set(named.endpoints);
  const models = new Set(named.models.map((m) => m.toLowerCase()));
  for (const key of changedKeys) {
    if (key.startsWith('endpoint:')) endpoints.add(key.slice('endpoint:'.length));
    else if (key.startsWith('alias:'))
      models.add(
        key
          .slice('alias:'.length)
          .replace(/@[^@]*$/, '')
          .toLowerCase(),
      );
  }
  return { endpoints: [...endpoints].sort(), models: [...models].sort() };
}

const aliasPlan = (model: string, alias: string): AliasPlan => ({
  kind: 'alias',
  subcommand: 'promote',
  model,
  alias,
  toVersion: 0,
  fingerprint: '',
});

const endpointPlan = (endpoint: string, subcommand: EndpointPlan['subcommand']): EndpointPlan => ({
  kind: 'endpoint',
  subcommand,
  endpoint,
  create: false,
  after: { servedVersions: [], traffic: [] },
  fingerprint: '',
});

/**
 * Whether a gate covers the target: a change to it through the bot would need an approval.
 *
 * @example isGated(policy, { kind: 'alias', model: 'acme.mlops.churn_model', alias: 'Production' }) // true
 */
export function isGated(policy: Policy, target: LedgerTarget): boolean {
  if (target.kind === 'alias') {
    return gateForChange(policy, 'promote', aliasPlan(target.model, target.alias)) !== undefined;
  }
  const bound = (policy.bindings ?? []).some((b) => {
    if (b.endpoint !== target.endpoint) return false;
    let model: string;
    try {
      model = resolveModelName(b.model, policy.defaults);
    } catch {
      return false;
    }
    return gateForChange(policy, 'promote', aliasPlan(model, b.alias)) !== undefined;
  });
  if (bound) return true;
  return (['deploy', 'split', 'rollback'] as const).some(
    (s) => gateForChange(policy, s, endpointPlan(target.endpoint, s)) !== undefined,
  );
}

/**
 * The aliases of a model the ledger follows even while they are not set: Production, the aliases
 * bound to an endpoint, and those a gate lists; so their first setting is a change, not a baseline.
 *
 * @example expectedAliases(policy, 'acme.mlops.churn_model') // ['Production']
 */
export function expectedAliases(policy: Policy, model: string): string[] {
  const names = [PRODUCTION_ALIAS];
  for (const b of policy.bindings ?? []) {
    try {
      if (resolveModelName(b.model, policy.defaults) === model.toLowerCase()) names.push(b.alias);
    } catch {
      // An unresolvable binding is reported by the policy check.
    }
  }
  for (const gate of Object.values(policy.gates ?? {})) names.push(...(gate.aliases ?? []));
  return names.filter((n, i) => names.findIndex((m) => m.toLowerCase() === n.toLowerCase()) === i);
}

/**
 * Where an out-of-band change of a gated target is posted: the approval channel, else the first
 * channel of the policy; undefined when the target is not gated or the policy names no channel.
 *
 * @example notifyChannelFor(policy, { kind: 'endpoint', endpoint: 'churn-endpoint' }) // 'C0APPROVALS'
 */
export function notifyChannelFor(policy: Policy, target: LedgerTarget): string | undefined {
  if (!isGated(policy, target)) return undefined;
  return policy.approvalChannel ?? policy.channels?.[0];
}
