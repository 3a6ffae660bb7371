/**
 * Who may do what, where: pure decisions over the policy. The Slack layer resolves the actor's user
 * groups (slack/directory.ts) and passes them in, so nothing here does I/O.
 */
import { type Actor, MUTATING_SUBCOMMANDS, type Subcommand } from '../domain/vocabulary.js';
import type { AccessRule, Policy } from './policy.js';

export type AccessDecision = { ok: true } | { ok: false; reason: string; hint: string };

const ALLOWED: AccessDecision = { ok: true };

/** Changes through the pipeline (the commands' specs say `mutating: true` for exactly these). */
const isMutating = (s: Subcommand): boolean => (MUTATING_SUBCOMMANDS as readonly string[]).includes(s);

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
 * // { ok: false, reason: 'Only members of @ml-approvers or <@U0REQUEST> may deploy.', hint: '…' }
 */
export function checkAccess(
  policy: Policy,
  actor: Actor,
  groupsOfActor: Set<string>,
  subcommand: Subcommand,
  target: { endpoint?: string } = {},
): AccessDecision {
  const rule = ruleFor(policy, subcommand);
  const addYou = `ask an admin to add you to \`access.${subcommand}\` in the policy file`;
  if (!rule || !hasAnyone(rule)) {
    return {
      ok: false,
      reason: `Nobody may ${subcommand} here: the policy ${rule ? 'gives that right to no one' : `has no \`access.${subcommand}\` rule`}.`,
      hint: `An admin can add people or groups to \`access.${subcommand}\` in the policy file.`,
    };
  }
  if (!matches(rule, actor, groupsOfActor)) {
    return {
      ok: false,
      reason: `Only ${describeRule(rule)} may ${subcommand}.`,
      hint: `Ask one of them to run it, or ${addYou}.`,
    };
  }
  const protection = isMutating(subcommand) ? protectionOf(policy, target.endpoint) : undefined;
  if (protection?.allow && !matches(protection.allow, actor, groupsOfActor)) {
    const who = hasAnyone(protection.allow) ? `only ${describeRule(protection.allow)} may` : 'nobody may';
    return {
      ok: false,
      reason: `${protection.name} is protected: ${who} change it.`,
      hint: `Ask one of them to run it, or ask an admin to add you to the \`allow\` list of ${protection.name} under \`protectedEndpoints\`.`,
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
 * channelAllowed with the words to tell the user where to go instead.
 *
 * @example checkChannel(policy, 'C0RANDOM') // { ok: false, reason: 'modelgate answers only in <#C0MLOPS>.', … }
 */
export function checkChannel(policy: Policy, channelId: string): AccessDecision {
  if (channelAllowed(policy, channelId)) return ALLOWED;
  const channels = (policy.channels ?? []).map((c) => `<#${c}>`);
  return {
    ok: false,
    reason: `modelgate answers only in ${either(channels)}.`,
    hint: 'Run the command there, or ask an admin to add this channel to `channels` in the policy file.',
  };
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
