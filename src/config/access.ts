/**
 * Who may do what, where: pure decisions over the policy. The Slack layer resolves the actor's user
 * groups (slack/directory.ts) and passes them in, so nothing here does I/O.
 */
import type { ErrorDetails } from '../domain/errors.js';
import { type Actor, MUTATING_SUBCOMMANDS, type Subcommand } from '../domain/vocabulary.js';
import type { AccessRule, Policy } from './policy.js';

/** Allowed, or refused with what the refusal is about (worded by slack/blocks/errors.ts). */
export type AccessDecision = { ok: true } | { ok: false; refusal: ErrorDetails<'not_allowed'> };

/** The bot answers here, or not, with the channels it does answer in. */
export type ChannelDecision = { ok: true } | { ok: false; channels: string[] };

const ALLOWED: AccessDecision = { ok: true };

/**
 * Changes: through the pipeline (the commands' specs say `mutating: true` for exactly these), and a
 * canary rollout (its own state machine, but a change all the same: no access without a rule, and
 * a protected endpoint's `allow` on top).
 */
const isMutating = (s: Subcommand): boolean =>
  (MUTATING_SUBCOMMANDS as readonly string[]).includes(s) || s === 'rollout';

/** A rule as plain data, the way an error's details carry it. */
const ruleData = (rule: AccessRule) => ({
  users: [...rule.users],
  groups: [...rule.groups],
  everyone: rule.everyone,
});

/** A group reference as Slack shows it: a handle stays `@handle`, an id becomes a group mention. */
const showGroup = (ref: string): string => (ref.startsWith('@') ? ref : `<!subteam^${ref}>`);

/** "a, b or c" */
function either(parts: string[]): string {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

/**
 * Who a rule lets in, in words for a Slack message.
 *
 * @example describeRule({ users: ['U0REQUEST'], groups: ['@ml-approvers'], everyone: false }) // 'members of @ml-approvers or <@U0REQUEST>'
 */
export function describeRule(rule: AccessRule): string {
  if (rule.everyone) return 'everyone';
  const groups = rule.groups.map(showGroup);
  const parts = [
    ...(groups.length > 0 ? [`members of ${either(groups)}`] : []),
    ...rule.users.map((u) => `<@${u}>`),
  ];
  return parts.length > 0 ? either(parts) : 'nobody';
}

function matches(rule: AccessRule, actor: Actor, groups: Set<string>): boolean {
  if (rule.everyone || rule.users.includes(actor.userId)) return true;
  const lowered = new Set([...groups].map((g) => (g.startsWith('@') ? g.toLowerCase() : g)));
  return rule.groups.some((g) => lowered.has(g.startsWith('@') ? g.toLowerCase() : g));
}

const hasAnyone = (rule: AccessRule): boolean =>
  rule.everyone || rule.users.length > 0 || rule.groups.length > 0;

/** The protected-endpoint entry for an endpoint, if it is protected. */
export function protectionOf(policy: Policy, endpoint: string | undefined) {
  return endpoint === undefined ? undefined : policy.protectedEndpoints.find((p) => p.name === endpoint);
}

/** True when the policy lists the endpoint under `protectedEndpoints`. */
export function isProtected(policy: Policy, endpoint: string | undefined): boolean {
  return protectionOf(policy, endpoint) !== undefined;
}

/** The rule that governs a subcommand; `help` and unlisted read-only subcommands are open to all. */
function ruleFor(policy: Policy, subcommand: Subcommand): AccessRule | undefined {
  if (subcommand === 'help') return { users: [], groups: [], everyone: true };
  const rule = policy.access[subcommand];
  if (rule) return rule;
  return isMutating(subcommand) ? undefined : { users: [], groups: [], everyone: true };
}

/**
 * Whether deciding needs the actor's user groups: lets the caller skip a directory lookup.
 *
 * @example needsGroups(policy, 'status') // false with no `access.status` rule
 */
export function needsGroups(
  policy: Policy,
  subcommand: Subcommand,
  target: { endpoint?: string } = {},
): boolean {
  const rule = ruleFor(policy, subcommand);
  const allow = isMutating(subcommand) ? protectionOf(policy, target.endpoint)?.allow : undefined;
  return [rule, allow].some((r) => r !== undefined && !r.everyone && r.groups.length > 0);
}

/**
 * May this actor run this subcommand (on this endpoint)? `groupsOfActor` holds the ids (`S…`)
 * and/or handles (`@handle`) of the user groups the actor belongs to. A change to a protected
 * endpoint needs the endpoint's `allow` on top of the subcommand right.
 *
 * @example
 * checkAccess(policy, { userId: 'U0VIEWER' }, new Set(), 'deploy', { endpoint: 'churn-endpoint' })
 * // { ok: false, refusal: { variant: 'not_in_rule', subcommand: 'deploy', rule: { … } } }
 */
export function checkAccess(
  policy: Policy,
  actor: Actor,
  groupsOfActor: Set<string>,
  subcommand: Subcommand,
  target: { endpoint?: string } = {},
): AccessDecision {
  const rule = ruleFor(policy, subcommand);
  if (!rule || !hasAnyone(rule)) {
    return { ok: false, refusal: { variant: 'nobody', subcommand, ruleExists: rule !== undefined } };
  }
  if (!matches(rule, actor, groupsOfActor)) {
    return { ok: false, refusal: { variant: 'not_in_rule', subcommand, rule: ruleData(rule) } };
  }
  const protection = isMutating(subcommand) ? protectionOf(policy, target.endpoint) : undefined;
  if (protection?.allow && !matches(protection.allow, actor, groupsOfActor)) {
    return {
      ok: false,
      refusal: { variant: 'protected', endpoint: protection.name, allow: ruleData(protection.allow) },
    };
  }
  return ALLOWED;
}

/**
 * True when the bot answers in this channel: the policy lists it, or lists no channels at all.
 *
 * @example channelAllowed(policy, 'C0MLOPS') // true
 */
export function channelAllowed(policy: Policy, channelId: string): boolean {
  return policy.channels === undefined || policy.channels.includes(channelId);
}

/**
 * channelAllowed with the channels the bot does answer in, to tell the user where to go instead.
 *
 * @example checkChannel(policy, 'C0RANDOM') // { ok: false, channels: ['C0MLOPS'] }
 */
export function checkChannel(policy: Policy, channelId: string): ChannelDecision {
  if (channelAllowed(policy, channelId)) return { ok: true };
  return { ok: false, channels: [...(policy.channels ?? [])] };
}

/**
 * True when the policy lets this subcommand apply without an Apply click. Never for a protected
 * endpoint: those always ask for confirmation.
 *
 * @example autoApplies(policy, 'split', 'staging-endpoint') // true when autoApply lists split
 */
export function autoApplies(policy: Policy, subcommand: Subcommand, endpoint?: string): boolean {
  return (
    (policy.autoApply as readonly string[]).includes(subcommand) &&
    isMutating(subcommand) &&
    !isProtected(policy, endpoint)
  );
}

/** Where a monitor's responders come from: its own `responders`, the retrain gate, or nowhere. */
export type RespondersSource = 'monitor' | 'retrain_gate' | 'none';

/**
 * Who may Snooze and Acknowledge a monitor's alerts: the monitor's `responders`, else the approvers of
 * the `retrain` gate (who decide whether the model retrains), else nobody.
 *
 * @example respondersOf(policy, 'churn') // { rule: { users: [], groups: ['@ml-approvers'], everyone: false }, source: 'retrain_gate' }
 */
export function respondersOf(
  policy: Pick<Policy, 'monitors' | 'gates'>,
  monitor: string,
): { rule: AccessRule; source: RespondersSource } {
  const own = policy.monitors?.[monitor]?.responders;
  if (own) return { rule: own, source: 'monitor' };
  const gate = policy.gates?.retrain?.approvers;
  if (gate && gate.users.length + gate.groups.length > 0) {
    return { rule: { users: gate.users, groups: gate.groups, everyone: false }, source: 'retrain_gate' };
  }
  return { rule: { users: [], groups: [], everyone: false }, source: 'none' };
}

/** Whether deciding on a monitor's responders needs the actor's user groups. */
export function respondersNeedGroups(policy: Pick<Policy, 'monitors' | 'gates'>, monitor: string): boolean {
  const { rule } = respondersOf(policy, monitor);
  return !rule.everyone && rule.groups.length > 0;
}

/**
 * May this actor Snooze or Acknowledge the alerts of this monitor? Refused with who may, and where
 * that is set.
 *
 * @example checkResponder(policy, 'churn', { userId: 'U0VIEWER' }, new Set(), 'snooze') // { ok: false, refusal: { monitor: 'churn', … } }
 */
export function checkResponder(
  policy: Pick<Policy, 'monitors' | 'gates'>,
  monitor: string,
  actor: Actor,
  groupsOfActor: Set<string>,
  action: 'snooze' | 'acknowledge',
): { ok: true } | { ok: false; refusal: ErrorDetails<'not_a_responder'> } {
  const { rule, source } = respondersOf(policy, monitor);
  if (hasAnyone(rule) && matches(rule, actor, groupsOfActor)) return { ok: true };
  return { ok: false, refusal: { monitor, action, source, rule: ruleData(rule) } };
}
