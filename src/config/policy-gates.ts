/**
 * The approval parts of the policy file: where approval requests are posted (`approvalChannel`),
 * who approves what and how many approvals it needs (`gates`), which alias moves also roll an
 * endpoint out (`bindings`), and which job retrains which model (`retraining`).
 *
 * Self-contained on purpose: policy.ts imports these schemas, so this module imports nothing from
 * it (a cycle would leave one side's constants undefined at load time). Problems carry a `fix` in
 * `params`, which policy.ts reports with the key path and line like its own.
 */

import { z } from 'zod';
import { MUTATING_SUBCOMMANDS } from '../domain/vocabulary.js';
import {
  channelIdSchema,
  checked,
  endpointNameSchema,
  groupRefSchema,
  show,
  userIdSchema,
} from './checked.js';

const approverUserSchema = userIdSchema;
const approverGroupSchema = groupRefSchema.transform((g) => (g.startsWith('@') ? g.toLowerCase() : g));
const channelSchema = channelIdSchema;
const endpointSchema = endpointNameSchema;

const ALIAS_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,254}$/;
const MODEL_NAME = /^[A-Za-z0-9_-]{1,255}(\.[A-Za-z0-9_-]{1,255}){0,2}$/;
const GATE_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
const DURATION = /^(\d+(?:\.\d+)?(?:d|h|m|s))+$/;

/** The two gates the bot itself asks for; any other gate names what it covers. */
export const BUILT_IN_GATES = ['production', 'retrain'] as const;

/** Subcommands a custom gate can cover (those that change something through the pipeline). */

/** The alias whose moves always need an approval (the `production` gate). */
export const PRODUCTION_ALIAS = 'Production';

export const DEFAULT_EXPIRY = '24h';
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const aliasSchema = checked(
  (v) => ALIAS_NAME.test(v.replace(/^@/, '')),
  (v) => `${show(v)} is not a model alias`,
  () => 'write the alias as Databricks shows it, e.g. Champion (letters, digits, "_", "-")',
).transform((v) => v.replace(/^@/, ''));

const modelSchema = checked(
  (v) => MODEL_NAME.test(v),
  (v) => `${show(v)} is not a model name`,
  () => 'write churn_model, mlops.churn_model or acme.mlops.churn_model',
);

/**
 * "24h", "90m", "1h30m", "2d" → milliseconds.
 *
 * @example parseDuration('1h30m') // 5_400_000
 */
export function parseDuration(text: string): number {
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(d|h|m|s)/g)) {
    ms += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  }
  return Math.round(ms);
}

/** A duration of at least a minute ("90m", "24h", "1h30m"), parsed to milliseconds. */
export const durationSchema = checked(
  (v) => DURATION.test(v.replace(/\s+/g, '')) && parseDuration(v.replace(/\s+/g, '')) >= 60_000,
  (v) =>
    DURATION.test(v.replace(/\s+/g, ''))
      ? `${show(v)} is shorter than a minute`
      : `${show(v)} is not a duration`,
  () => 'write a number with a unit, at least a minute: 90m, 24h, 2d or 1h30m',
).transform((v) => parseDuration(v.replace(/\s+/g, '')));

/** Who may approve: listed users and members of listed groups. The requester never may. */
export const approversSchema = z.strictObject({
  users: z.array(approverUserSchema).default([]),
  groups: z.array(approverGroupSchema).default([]),
});
export type Approvers = z.infer<typeof approversSchema>;

/**
 * Who hears of a request beyond its card. `approvers: dm`: each approver (listed, or a member of a
 * listed group) also gets a DM with the same buttons. `requester`: how the requester hears of the
 * outcome (approved, rejected, expired, superseded, executed, failed): a DM (the default), a reply
 * in the request's thread, or not at all.
 */
export const gateNotifySchema = z.strictObject({
  approvers: z.enum(['channel', 'dm']).default('channel'),
  requester: z.enum(['dm', 'thread', 'none']).default('dm'),
});
export type GateNotify = z.infer<typeof gateNotifySchema>;

/** What a gate without `notify` does: the card mentions the approvers; the requester gets DMs. */
export const DEFAULT_GATE_NOTIFY: GateNotify = { approvers: 'channel', requester: 'dm' };

/**
 * One gate: its approvers, how many distinct approvals a request needs, how long it stays open,
 * and, for a custom gate, which changes it covers (a change is covered when its subcommand is
 * listed, or none are, and its endpoint or alias is listed, or neither list is given).
 */
export const gateSchema = z.strictObject({
  approvers: approversSchema,
  approvals: z
    .number({ error: 'should be a whole number of approvals, e.g. 2' })
    .int('should be a whole number of approvals, e.g. 2')
    .min(1, 'needs at least 1 approval')
    .max(10, 'asks for more than 10 approvals')
    .default(1),
  expiresAfter: durationSchema.default(parseDuration(DEFAULT_EXPIRY)),
  subcommands: z.array(z.enum(MUTATING_SUBCOMMANDS)).optional(),
  aliases: z.array(aliasSchema).optional(),
  endpoints: z.array(endpointSchema).optional(),
  notify: gateNotifySchema.optional(),
});
export type Gate = z.infer<typeof gateSchema>;

export const gatesSchema = z.record(z.string(), gateSchema).check((ctx) => {
  for (const [name, gate] of Object.entries(ctx.value)) {
    const builtIn = (BUILT_IN_GATES as readonly string[]).includes(name);
    if (!GATE_NAME.test(name)) {
      ctx.issues.push({
        code: 'custom',
        input: name,
        path: [name],
        message: `"${name}" is not a gate name`,
        params: { fix: 'use lower-case letters, digits, "-" or "_", e.g. protected-endpoints' },
      });
      continue;
    }
    const covers =
      (gate.subcommands?.length ?? 0) + (gate.aliases?.length ?? 0) + (gate.endpoints?.length ?? 0);
    if (!builtIn && covers === 0) {
      ctx.issues.push({
        code: 'custom',
        input: gate,
        path: [name],
        message: `"${name}" is neither production nor retrain and lists no subcommands, aliases or endpoints, so it gates nothing`,
        params: {
          fix: 'rename it to production or retrain, or add the subcommands, aliases or endpoints it covers',
        },
      });
    }
    if (gate.approvers.users.length === 0 && gate.approvers.groups.length === 0) {
      ctx.issues.push({
        code: 'custom',
        input: gate.approvers,
        path: [name, 'approvers'],
        message: 'names no approver, so nothing it covers could ever be approved',
        params: { fix: 'list member ids under `users:` or user groups under `groups:`' },
      });
    } else if (gate.approvers.groups.length === 0 && gate.approvers.users.length < gate.approvals) {
      ctx.issues.push({
        code: 'custom',
        input: gate.approvals,
        path: [name, 'approvals'],
        message: `asks for ${gate.approvals} approvals but lists only ${gate.approvers.users.length} approver(s)`,
        params: { fix: 'add approvers (users or a group) or lower `approvals`' },
      });
    }
  }
});
export type Gates = z.infer<typeof gatesSchema>;

const UNGATED_FIX =
  'write in quotes why its deploys, splits and rollbacks need no approval, e.g. ungatedBecause: "canary traffic is tuned by on-call"';

/** Why a bound endpoint's own changes skip the alias's gate: text, said on purpose. */
const ungatedBecauseSchema = z
  .unknown()
  .check((ctx) => {
    if (typeof ctx.value !== 'string' || ctx.value.trim().length < 3) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message:
          typeof ctx.value === 'string'
            ? 'gives no reason for letting the endpoint change without approval'
            : `should be the reason, as text, but is ${show(ctx.value)}`,
        params: { fix: UNGATED_FIX },
      });
    }
  })
  .transform((v) => String(v).trim());

/**
 * An alias bound to an endpoint: moving the alias (once approved) also rolls the endpoint out, and
 * every deploy, split and rollback of the endpoint goes through the alias's gate, unless
 * `ungatedBecause` says why it need not.
 */
export const bindingSchema = z.strictObject({
  model: modelSchema,
  alias: aliasSchema.default(PRODUCTION_ALIAS),
  endpoint: endpointSchema,
  /** The explicit opt-out: the endpoint's own changes skip the alias's gate (its moves never do). */
  ungatedBecause: ungatedBecauseSchema.optional(),
});
export type Binding = z.infer<typeof bindingSchema>;

export const bindingsSchema = z.array(bindingSchema).check((ctx) => {
  const seen = new Set<string>();
  ctx.value.forEach((b, i) => {
    const key = `${b.model.toLowerCase()}@${b.alias.toLowerCase()}`;
    if (seen.has(key)) {
      ctx.issues.push({
        code: 'custom',
        input: b,
        path: [i],
        message: `${b.alias} of ${b.model} is bound twice`,
        params: { fix: 'keep one binding per model and alias' },
      });
    }
    seen.add(key);
  });
});

/** The job that retrains a model, with fixed job parameters (values are text). */
export const retrainingEntrySchema = z.strictObject({
  job: z
    .number({ error: 'should be the numeric job id, e.g. 1001' })
    .int('should be the numeric job id, e.g. 1001')
    .positive('should be the numeric job id, e.g. 1001'),
  parameters: z
    .record(z.string(), z.string({ error: 'job parameter values are text: quote them' }))
    .optional(),
});
export type RetrainingEntry = z.infer<typeof retrainingEntrySchema>;

export const retrainingSchema = z.record(z.string(), retrainingEntrySchema).check((ctx) => {
  for (const name of Object.keys(ctx.value)) {
    if (!MODEL_NAME.test(name)) {
      ctx.issues.push({
        code: 'custom',
        input: name,
        path: [name],
        message: `"${name}" is not a model name`,
        params: {
          fix: 'key each entry by the model: churn_model, mlops.churn_model or acme.mlops.churn_model',
        },
      });
    }
  }
});

const isProduction = (alias: string) => alias.toLowerCase() === PRODUCTION_ALIAS.toLowerCase();

/**
 * The problems of gates and bindings taken together, each with its key path and fix: a binding to
 * Production that would leave its endpoint ungated (no production gate, and no `ungatedBecause`),
 * and a custom gate naming an endpoint bound to Production, whose production gate always wins
 * (approvals/gate.ts), so the custom gate would never apply there.
 *
 * @example gatedBindingProblems({ bindings: [{ model: 'churn_model', alias: 'Production', endpoint: 'churn-endpoint' }] })
 * // [{ path: ['bindings', 0], message: 'binds Production of churn_model to churn-endpoint, …', fix: 'add gates.production …' }]
 */
export function gatedBindingProblems(
  policy: Pick<ApprovalPolicy, 'gates' | 'bindings'>,
): Array<{ path: PropertyKey[]; message: string; fix: string }> {
  const problems: Array<{ path: PropertyKey[]; message: string; fix: string }> = [];
  const bindings = policy.bindings ?? [];
  const gated = new Map<string, Binding>();
  bindings.forEach((b, i) => {
    if (b.ungatedBecause !== undefined || !isProduction(b.alias)) return;
    if (policy.gates?.production) gated.set(b.endpoint, b);
    else
      problems.push({
        path: ['bindings', i],
        message: `binds Production of ${b.model} to ${b.endpoint}, but there is no production gate, so one person could deploy, split or roll back ${b.endpoint} on their own`,
        fix: `add gates.production with its approvers, or, to let ${b.endpoint} change without approval on purpose, add ungatedBecause: "<why>" to this binding`,
      });
  });
  for (const [name, gate] of Object.entries(policy.gates ?? {})) {
    if ((BUILT_IN_GATES as readonly string[]).includes(name)) continue;
    (gate.endpoints ?? []).forEach((endpoint, j) => {
      const b = gated.get(endpoint);
      if (!b) return;
      problems.push({
        path: ['gates', name, 'endpoints', j],
        message: `${endpoint} is bound to Production of ${b.model}, so its changes always go through the production gate and this gate would never apply to it`,
        fix: `remove ${endpoint} here; to ask more of its changes, raise gates.production.approvals`,
      });
    });
  }
  return problems;
}

/** The keys policy.ts adds to its top level. */
export const approvalPolicyShape = {
  /** Where approval requests are posted; absent means the channel the request was made in. */
  approvalChannel: channelSchema.optional(),
  gates: gatesSchema.optional(),
  bindings: bindingsSchema.optional(),
  retraining: retrainingSchema.optional(),
};

/** The approval parts of a parsed policy; each is absent when the file leaves it out. */
export interface ApprovalPolicy {
  approvalChannel?: string | undefined;
  gates?: Gates | undefined;
  bindings?: Binding[] | undefined;
  retraining?: Record<string, RetrainingEntry> | undefined;
}

/**
 * Every user group the gates name, for the directory to resolve.
 *
 * @example gateGroupRefs(policy) // ['@ml-approvers']
 */
export function gateGroupRefs(policy: Pick<ApprovalPolicy, 'gates'>): string[] {
  return [...new Set(Object.values(policy.gates ?? {}).flatMap((g) => g.approvers.groups))];
}
