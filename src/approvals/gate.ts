/**
 * Gates, pure: which gate (if any) a change or a retraining falls under, who may approve it, and
 * which job retrains a model or a monitor's model. Policy and actor in, decisions out; the user
 * groups of the actor are resolved by the caller (slack/directory.ts) and passed in.
 */

import { describeRule } from '../config/access.js';
import type { ApprovalPolicy, Approvers, Binding, Gate } from '../config/policy-gates.js';
import { PRODUCTION_ALIAS } from '../config/policy-gates.js';
import type { Plan } from '../domain/change.js';
import { UserError } from '../domain/errors.js';
import { resolveModelName, sameAlias } from '../domain/model-names.js';
import type { Actor, MutatingSubcommand } from '../domain/vocabulary.js';

export interface Defaults {
  catalog: string;
  schema: string;
}

/** The gate a request falls under, by name; `gate` is undefined when the policy lacks a built-in one. */
export interface GateRef {
  name: string;
  gate: Gate | undefined;
}

const hasMatchers = (g: Gate): boolean =>
  (g.subcommands?.length ?? 0) + (g.aliases?.length ?? 0) + (g.endpoints?.length ?? 0) > 0;

type GateTarget = { alias: string } | { endpoint: string };

function coversTarget(gate: Gate, subcommand: MutatingSubcommand, target: GateTarget): boolean {
  if (!hasMatchers(gate)) return false;
  if (gate.subcommands?.length && !gate.subcommands.includes(subcommand)) return false;
  if ((gate.aliases?.length ?? 0) + (gate.endpoints?.length ?? 0) === 0) return true;
  if ('alias' in target) return gate.aliases?.some((a) => sameAlias(a, target.alias)) ?? false;
  return gate.endpoints?.includes(target.endpoint) ?? false;
}

/**
 * Whether a custom gate covers a change: its subcommand is listed (or no subcommands are), and its
 * endpoint or alias is listed (or neither list is given).
 *
 * @example gateCovers({ subcommands: ['rollback'], endpoints: ['churn-endpoint'], … }, 'rollback', plan) // true
 */
export function gateCovers(gate: Gate, subcommand: MutatingSubcommand, plan: Plan): boolean {
  return coversTarget(
    gate,
    subcommand,
    plan.kind === 'alias' ? { alias: plan.alias } : { endpoint: plan.endpoint },
  );
}

/**
 * The gate a move of `alias` needs: the `production` gate for Production (even when the policy
 * has none), else the first custom gate listing the alias that covers promote.
 */
function aliasGate(policy: Pick<ApprovalPolicy, 'gates'>, alias: string): GateRef | undefined {
  if (sameAlias(alias, PRODUCTION_ALIAS)) return { name: 'production', gate: policy.gates?.production };
  for (const [name, gate] of Object.entries(policy.gates ?? {})) {
    if (name === 'retrain') continue;
    if (coversTarget(gate, 'promote', { alias })) return { name, gate };
  }
  return undefined;
}

/**
 * The gate an endpoint bound to an alias passes its deploys, splits and rollbacks through: the
 * alias's gate, Production's first when the endpoint is bound to several aliases. A binding with
 * `ungatedBecause` lends its endpoint no gate (its alias move stays gated).
 *
 * @example boundEndpointGate(policy, 'churn-endpoint') // { name: 'production', gate, binding }
 */
export function boundEndpointGate(
  policy: Pick<ApprovalPolicy, 'gates' | 'bindings'>,
  endpoint: string,
): (GateRef & { binding: Binding }) | undefined {
  const bound = (policy.bindings ?? []).filter(
    (b) => b.endpoint === endpoint && b.ungatedBecause === undefined,
  );
  // Production first: the strongest gate a target can have wins over the order of the file.
  bound.sort(
    (a, b) => Number(sameAlias(b.alias, PRODUCTION_ALIAS)) - Number(sameAlias(a.alias, PRODUCTION_ALIAS)),
  );
  for (const binding of bound) {
    const ref = aliasGate(policy, binding.alias);
    if (ref) return { ...ref, binding };
  }
  return undefined;
}

/**
 * The gate a change needs, if any:
 * 1. a move of the Production alias needs the `production` gate (even when the policy has none:
 *    then it cannot be requested);
 * 2. a deploy, split or rollback of an endpoint bound to an alias needs that alias's gate (for
 *    Production, the production gate), whatever other gates say, unless the binding opts the
 *    endpoint out with `ungatedBecause`: the target, not the command, decides;
 * 3. otherwise the first gate, in the policy's order, that covers the change.
 *
 * @example gateForChange(policy, 'promote', { kind: 'alias', alias: 'Production', … }) // { name: 'production', gate }
 * @example gateForChange(policy, 'split', { kind: 'endpoint', endpoint: 'churn-endpoint', … }) // { name: 'production', gate }
 */
export function gateForChange(
  policy: Pick<ApprovalPolicy, 'gates' | 'bindings'>,
  subcommand: MutatingSubcommand,
  plan: Plan,
): GateRef | undefined {
  if (plan.kind === 'alias' && sameAlias(plan.alias, PRODUCTION_ALIAS)) {
    return { name: 'production', gate: policy.gates?.production };
  }
  if (plan.kind === 'endpoint') {
    const bound = boundEndpointGate(policy, plan.endpoint);
    if (bound) return { name: bound.name, gate: bound.gate };
  }
  for (const [name, gate] of Object.entries(policy.gates ?? {})) {
    if (name === 'retrain') continue;
    if (gateCovers(gate, subcommand, plan)) return { name, gate };
  }
  return undefined;
}

/** Why an actor may not vote on a request, in words; undefined when they may. */
export type ApproverCheck =
  | { ok: true }
  | { ok: false; reason: 'self_approval' | 'not_approver'; text: string; hint?: string };

function inRule(approvers: Approvers, actor: Actor, groupsOfActor: ReadonlySet<string>): boolean {
  if (approvers.users.includes(actor.userId)) return true;
  const lowered = new Set([...groupsOfActor].map((g) => (g.startsWith('@') ? g.toLowerCase() : g)));
  return approvers.groups.some((g) => lowered.has(g.startsWith('@') ? g.toLowerCase() : g));
}

/**
 * Who the approvers are, in words for Slack: "members of @ml-approvers or <@U0APPROVE>".
 *
 * @example describeApprovers({ users: ['U1'], groups: [] }) // '<@U1>'
 */
export function describeApprovers(approvers: Approvers): string {
  return describeRule({ users: approvers.users, groups: approvers.groups, everyone: false });
}

/** Whether the gate needs the actor's user groups to decide (spares a directory lookup). */
export const approversNeedGroups = (approvers: Approvers): boolean => approvers.groups.length > 0;

/**
 * May this actor approve (or reject) a request of `requester` under these approvers?
 * The requester never may approve their own request.
 *
 * @example checkApprover(approvers, { userId: 'U0REQUEST' }, new Set(), 'U0REQUEST') // { ok: false, reason: 'self_approval', … }
 */
export function checkApprover(
  approvers: Approvers,
  actor: Actor,
  groupsOfActor: ReadonlySet<string>,
  requester: string,
): ApproverCheck {
  if (actor.userId === requester) {
    return {
      ok: false,
      reason: 'self_approval',
      text: 'You asked for this, so you cannot approve it: a second person must.',
      hint: `Ask ${describeApprovers(approvers)}.`,
    };
  }
  if (!inRule(approvers, actor, groupsOfActor)) {
    return {
      ok: false,
      reason: 'not_approver',
      text: `Only ${describeApprovers(approvers)} may approve or reject this request.`,
      hint: 'Ask an admin to add you to the approvers of this gate under `gates` in the policy file.',
    };
  }
  return { ok: true };
}

const sameModel = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * The endpoint an alias of a model is bound to, if the policy binds it.
 *
 * @example bindingFor(policy, 'acme.mlops.churn_model', 'Production', defaults)?.endpoint // 'churn-endpoint'
 */
export function bindingFor(
  policy: Pick<ApprovalPolicy, 'bindings'>,
  model: string,
  alias: string,
  defaults: Defaults,
): Binding | undefined {
  return (policy.bindings ?? []).find(
    (b) => sameModel(resolveModelName(b.model, defaults), model) && sameAlias(b.alias, alias),
  );
}

/** What a retraining request runs. */
export interface RetrainTarget {
  /** Three-part model name. */
  model: string;
  jobId: number;
  /** The monitor the name designated, when it designated one. */
  monitor?: string;
  /** Fixed job parameters from the policy. */
  parameters: Record<string, string>;
}

/** A monitor entry as the drift part of the policy has it (read defensively: it may be absent). */
interface MonitorLike {
  model?: unknown;
  retrainJob?: unknown;
}

function monitorsOf(policy: object): Record<string, MonitorLike> {
  const monitors = (policy as { monitors?: unknown }).monitors;
  return typeof monitors === 'object' && monitors !== null ? (monitors as Record<string, MonitorLike>) : {};
}

function retrainingFor(policy: Pick<ApprovalPolicy, 'retraining'>, model: string, defaults: Defaults) {
  return Object.entries(policy.retraining ?? {}).find(([name]) =>
    sameModel(resolveModelName(name, defaults), model),
  )?.[1];
}

/**
 * Resolves `retrain <monitor|model>`: a monitor name of the policy (its model, and its
 * `retrainJob` or the model's `retraining` job), else a model with a `retraining` entry.
 *
 * @example retrainTargetFor(policy, 'churn', defaults) // { model: 'acme.mlops.churn_model', jobId: 1001, monitor: 'churn', parameters: {} }
 */
export function retrainTargetFor(
  policy: Pick<ApprovalPolicy, 'retraining'>,
  name: string,
  defaults: Defaults,
): RetrainTarget {
  const monitor = Object.hasOwn(monitorsOf(policy), name) ? monitorsOf(policy)[name] : undefined;
  if (monitor && typeof monitor.model === 'string') {
    const model = resolveModelName(monitor.model, defaults);
    const entry = retrainingFor(policy, model, defaults);
    const jobId = typeof monitor.retrainJob === 'number' ? monitor.retrainJob : entry?.job;
    if (jobId === undefined) {
      throw new UserError('no_retraining_job', { variant: 'monitor', monitor: name, model });
    }
    return { model, jobId, monitor: name, parameters: { ...(entry?.parameters ?? {}) } };
  }
  let model: string;
  try {
    model = resolveModelName(name, defaults);
  } catch {
    throw notRetrainable(name, policy, defaults);
  }
  const entry = retrainingFor(policy, model, defaults);
  if (!entry) throw notRetrainable(name, policy, defaults);
  return { model, jobId: entry.job, parameters: { ...(entry.parameters ?? {}) } };
}

function notRetrainable(name: string, policy: Pick<ApprovalPolicy, 'retraining'>, defaults: Defaults) {
  const known = [
    ...Object.keys(monitorsOf(policy)),
    ...Object.keys(policy.retraining ?? {}).map((m) => resolveModelName(m, defaults).split('.').pop() ?? m),
  ];
  return new UserError('no_retraining_job', { variant: 'name', name, known: [...new Set(known)] });
}
