/**
 * The policy file (MODELGATE_CONFIG): default catalog and schema, who may run which subcommand,
 * where the bot answers, what applies without a click and which endpoints are protected.
 * Every object is strict so a typo is reported instead of silently ignored; every problem in the
 * file is reported at once, each with its key path, its line and how to fix it.
 */
import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { resolveModelName } from '../domain/model-names.js';
import type { MutatingSubcommand } from '../domain/vocabulary.js';
import { MUTATING_SUBCOMMANDS, type Subcommand } from '../domain/vocabulary.js';
import {
  channelIdSchema,
  checked,
  endpointNameSchema,
  groupRefSchema,
  show,
  userIdSchema,
} from './checked.js';
import { ConfigError, type ConfigIssue } from './databricks-connection.js';

export { channelIdSchema, groupRefSchema, userIdSchema } from './checked.js';

import { deploymentJobProblems, deploymentJobsSchema } from './policy-deployment-jobs.js';
import { approvalPolicyShape, durationSchema, gatedBindingProblems, gateGroupRefs } from './policy-gates.js';
import { chartsSchema, monitorsSchema } from './policy-monitors.js';
import { rolloutPolicyShape } from './policy-rollouts.js';
import { scoringSchema } from './policy-scoring.js';

/** Subcommands an access rule can name (`help` is open to everyone and has no rule). */
export const ACCESS_SUBCOMMANDS = [
  'deploy',
  'split',
  'promote',
  'rollback',
  'query',
  'status',
  'models',
  'drift',
  'retrain',
  'approvals',
  'audit',
  'history',
  'rollout',
  'monitor',
  'score',
] as const satisfies readonly Exclude<Subcommand, 'help'>[];
export type AccessSubcommand = (typeof ACCESS_SUBCOMMANDS)[number];

// Compile-time guards: the lists above name every subcommand of the shared contract.
type Missing<All, Listed> = Exclude<All, Listed> extends never ? true : Exclude<All, Listed>;
const _everyAccessSubcommand: Missing<Exclude<Subcommand, 'help'>, AccessSubcommand> = true;
const _everyMutatingSubcommand: Missing<MutatingSubcommand, (typeof MUTATING_SUBCOMMANDS)[number]> = true;
void _everyAccessSubcommand;
void _everyMutatingSubcommand;

const UC_NAME_PART = /^[A-Za-z0-9_-]{1,255}$/;

const ucPartSchema = (what: 'catalog' | 'schema') =>
  checked(
    (v) => UC_NAME_PART.test(v),
    (v) =>
      v.includes('.')
        ? `${show(v)} holds a dot: give the ${what} name alone`
        : `${show(v)} is not a Unity Catalog ${what} name`,
    () => `write just the ${what}, e.g. ${what === 'catalog' ? 'acme' : 'mlops'} (letters, digits, "_", "-")`,
  ).transform((v) => v.toLowerCase());

/** Who may do something: listed users, members of listed groups, or everyone. */
export const accessRuleSchema = z.strictObject({
  users: z.array(userIdSchema).default([]),
  groups: z.array(groupRefSchema.transform((g) => (g.startsWith('@') ? g.toLowerCase() : g))).default([]),
  everyone: z.boolean().default(false),
});
export type AccessRule = z.infer<typeof accessRuleSchema>;

export const policySchema = z
  .strictObject({
    defaults: z.strictObject({
      catalog: ucPartSchema('catalog'),
      schema: ucPartSchema('schema'),
      /** Where `deploy` without `to <endpoint>` goes. */
      endpoint: endpointNameSchema.optional(),
    }),
    /** The bot answers only in these channels; absent means everywhere. */
    channels: z.array(channelIdSchema).min(1).optional(),
    /** Absent rule: nobody for mutating subcommands, everyone for the others. */
    access: z
      .strictObject(
        Object.fromEntries(ACCESS_SUBCOMMANDS.map((s) => [s, accessRuleSchema.optional()])) as Record<
          AccessSubcommand,
          z.ZodOptional<typeof accessRuleSchema>
        >,
      )
      .default({}),
    /** Subcommands applied without an Apply click; never on protected endpoints. */
    autoApply: z.array(z.enum(MUTATING_SUBCOMMANDS)).default([]),
    /** Changing these needs `allow` in addition to the subcommand right, and always a confirmation. */
    protectedEndpoints: z
      .array(z.strictObject({ name: endpointNameSchema, allow: accessRuleSchema.optional() }))
      .default([]),
    /** Drift watch: monitored models, schedules, channels and threshold rules (policy-monitors.ts). */
    monitors: monitorsSchema.optional(),
    /** How drift charts are rendered (policy-monitors.ts); absent means QuickChart. */
    charts: chartsSchema.optional(),
    /** Batch scoring: the job `/mlops score` runs (policy-scoring.ts). */
    scoring: scoringSchema.optional(),
    /** Approvals: approvalChannel, gates, bindings, retraining (policy-gates.ts). */
    ...approvalPolicyShape,
    /** Canary rollouts: named analyses and the endpoints' inference tables (policy-rollouts.ts). */
    ...rolloutPolicyShape,
    /** MLflow 3 deployment jobs whose approval step is asked in Slack (policy-deployment-jobs.ts). */
    deploymentJobs: deploymentJobsSchema.optional(),
    /**
     * How long a plan stays good for Apply (ms); an older one is refused (re-run the command).
     * Absent: the pipeline's default, 1 h.
     */
    planExpiresAfter: durationSchema.optional(),
  })
  // Gates and bindings checked together, whenever both parsed: reported with the rest of the file.
  .superRefine(
    (policy, ctx) => {
      for (const p of gatedBindingProblems(policy)) {
        ctx.addIssue({ code: 'custom', path: p.path, message: p.message, params: { fix: p.fix } });
      }
    },
    {
      when: (payload) =>
        typeof payload.value === 'object' &&
        payload.value !== null &&
        !payload.issues.some((i) => i.path?.[0] === 'gates' || i.path?.[0] === 'bindings'),
    },
  )
  .superRefine((policy, ctx) => {
    for (const p of deploymentJobProblems(policy)) {
      ctx.addIssue({ code: 'custom', path: p.path, message: p.message, params: { fix: p.fix } });
    }
  })
  .superRefine((policy, ctx) => {
    const seen = new Set<string>();
    policy.protectedEndpoints.forEach((p, i) => {
      if (seen.has(p.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['protectedEndpoints', i, 'name'],
          message: `"${p.name}" is listed twice`,
          params: { fix: 'keep one entry per endpoint and merge their allow lists' },
        });
      }
      seen.add(p.name);
    });
  });

export type Policy = z.infer<typeof policySchema>;

/** A policy problem; `line` is where it sits in the file, when known. */
export interface PolicyIssue extends ConfigIssue {
  line?: number;
}

/** Formats a zod path the way people write it: `access.deploy.users[1]`. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out || '(top level)';
}

/** The schema found at a path, looking through optional/default wrappers, arrays and objects. */
function schemaAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): z.core.$ZodType | undefined {
  let current: z.core.$ZodType | undefined = schema;
  const unwrap = (s: z.core.$ZodType): z.core.$ZodType => {
    const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
    if (['optional', 'default', 'nullable', 'prefault', 'readonly', 'nonoptional'].includes(def.type)) {
      return unwrap(def.innerType as z.core.$ZodType);
    }
    if (def.type === 'pipe') return unwrap(def.in as z.core.$ZodType);
    return s;
  };
  for (const part of path) {
    if (!current) return undefined;
    const def = unwrap(current)._zod.def as unknown as Record<string, unknown> & { type: string };
    if (def.type === 'object' && typeof part === 'string') {
      current = (def.shape as Record<string, z.core.$ZodType>)[part];
    } else if (def.type === 'record' && typeof part === 'string') {
      current = def.valueType as z.core.$ZodType;
    } else if (def.type === 'array' && typeof part === 'number') {
      current = def.element as z.core.$ZodType;
    } else {
      return undefined;
    }
  }
  return current && unwrap(current);
}

function knownKeysAt(path: readonly PropertyKey[]): string[] {
  const s = schemaAt(policySchema, path);
  const def = s?._zod.def as unknown as { type: string; shape?: Record<string, unknown> } | undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

/** Edit distance, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const here = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = here;
    }
  }
  return row[b.length]!;
}

/** The closest candidate within a couple of typos, if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d <= Math.max(2, Math.floor(c.length / 3)) && (!best || d < best.d)) best = { c, d };
  }
  return best?.c;
}

const TYPE_WORDS: Record<string, string> = {
  array: 'a list',
  object: 'a mapping',
  string: 'text',
  boolean: 'true or false',
  number: 'a number',
};

function describeValue(v: unknown): string {
  if (v === null) return 'empty';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the text "${v}"`;
  return `${typeof v} ${String(v)}`;
}

const EXAMPLE_FIX = 'see modelgate.example.yml for the expected shape';

type Located = PolicyIssue & { path: PropertyKey[] };

/** Turns one zod issue into human issues (an unknown-keys issue becomes one per key). */
function toPolicyIssues(issue: z.core.$ZodIssue): Located[] {
  const path = issue.path as PropertyKey[];
  const key = formatKeyPath(path);
  const custom = issue.code === 'custom' ? (issue.params as { fix?: string } | undefined)?.fix : undefined;
  if (custom) return [{ key, path, problem: issue.message, fix: custom }];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(issue.path);
      const inAccess = issue.path.length === 1 && issue.path[0] === 'access';
      return issue.keys.map((k) => {
        const guess = closest(k, known);
        return {
          key: formatKeyPath([...path, k]),
          path: [...path, k],
          problem: inAccess
            ? `"${k}" is not a subcommand with an access rule${guess ? ` (did you mean ${guess}?)` : ''}`
            : `"${k}" is not a known setting${guess ? ` (did you mean ${guess}?)` : ''}`,
          fix: guess
            ? `rename it to ${guess}`
            : `remove it; the keys allowed here are ${known.join(', ') || '(none)'}`,
        };
      });
    }
    case 'invalid_type': {
      const input = (issue as { input?: unknown }).input;
      const want = TYPE_WORDS[issue.expected] ?? issue.expected;
      if (input === undefined) {
        return [{ key, path, problem: `is missing (${want} expected)`, fix: `add it; ${EXAMPLE_FIX}` }];
      }
      return [
        {
          key,
          path,
          problem: `should be ${want} but is ${describeValue(input)}`,
          fix: issue.expected === 'array' ? `write it as a list, e.g. [${String(input)}]` : EXAMPLE_FIX,
        },
      ];
    }
    case 'invalid_value': {
      const input = (issue as { input?: unknown }).input;
      const allowed = issue.values.map(String);
      const guess = typeof input === 'string' ? closest(input, allowed) : undefined;
      return [
        {
          key,
          path,
          problem: `${show(input)} is not one of ${allowed.join(', ')}`,
          fix: guess ? `did you mean ${guess}?` : `use one of ${allowed.join(', ')}`,
        },
      ];
    }
    case 'too_small': {
      // A number below its minimum (approvals: 0) is not an empty list: say what the minimum is.
      if (issue.origin !== 'array') {
        const input = (issue as { input?: unknown }).input;
        return [
          {
            key,
            path,
            problem: `${show(input)} is too small: ${issue.message}`,
            fix: `write at least ${String(issue.minimum)}`,
          },
        ];
      }
      return [
        {
          key,
          path,
          problem: 'is an empty list',
          fix:
            key === 'channels'
              ? 'list at least one channel id, or remove `channels` to let the bot answer everywhere'
              : 'add at least one entry or remove the key',
        },
      ];
    }
    default:
      return [{ key, path, problem: issue.message, fix: EXAMPLE_FIX }];
  }
}

const YAML_FIXES: Record<string, string> = {
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  DUPLICATE_KEY: 'keep only one of the two entries',
  BAD_INDENT: 'line up the entries of one list or mapping at the same indentation',
  MISSING_CHAR: 'close the bracket or quote that was opened',
  MULTIPLE_DOCS: 'keep a single YAML document (remove the extra ---)',
  BAD_SCALAR_START: 'put the value in quotes, e.g. "@ml-approvers" (YAML reserves @ and ` at the start)',
};

/**
 * Parses and validates a policy from YAML text. `source` names the file in messages.
 * Throws ConfigError with every problem: YAML syntax (with line and column) or schema violations
 * (with key path like `access.deploy.users[1]`, line, and a fix).
 *
 * @example parsePolicy('defaults: { catalog: acme, schema: mlops }').defaults.catalog // 'acme'
 */
export function parsePolicy(text: string, source = 'the policy file'): Policy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e): PolicyIssue => {
        const pos = e.linePos?.[0];
        return {
          key: pos ? `line ${pos.line}, column ${pos.col}` : source,
          problem: `YAML syntax: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
          fix: /end with an? [\]}]/.test(e.message)
            ? 'close the [ or { that was opened before this line'
            : (YAML_FIXES[e.code] ?? 'fix the YAML syntax there (quote values holding ": " or " #")'),
          ...(pos ? { line: pos.line } : {}),
        };
      }),
    );
  }
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) {
    throw new ConfigError([
      {
        key: source,
        problem: 'is empty',
        fix: 'start from modelgate.example.yml: it holds every setting, commented',
      },
    ]);
  }
  const result = policySchema.safeParse(data, { reportInput: true });
  if (result.success) return result.data;
  // Point at the key of a mapping entry (its value may start on the next line), else at the node.
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const last = path[n - 1];
      if (n > 0 && typeof last === 'string') {
        const parent = doc.getIn(path.slice(0, n - 1), true);
        if (isMap(parent)) {
          const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
          const range = isScalar(pair?.key) ? pair.key.range : undefined;
          if (range) return lineCounter.linePos(range[0]).line;
        }
      }
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) return lineCounter.linePos(range[0]).line;
    }
    return undefined;
  };
  const issues = result.error.issues.flatMap((issue) =>
    toPolicyIssues(issue).map(({ path, ...pi }): PolicyIssue => {
      const line = lineOf(path);
      return line === undefined ? pi : { ...pi, line };
    }),
  );
  throw new ConfigError(issues);
}

/**
 * Reads and validates the policy file at `path`.
 *
 * @example const policy = loadPolicy('modelgate.example.yml');
 */
export function loadPolicy(
  path: string,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): Policy {
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError([
      {
        key: 'MODELGATE_CONFIG',
        problem:
          code === 'ENOENT'
            ? `the policy file ${path} does not exist`
            : `the policy file ${path} cannot be read (${code ?? 'unknown error'})`,
        fix: 'point MODELGATE_CONFIG at your policy file; copy modelgate.example.yml to start one',
      },
    ]);
  }
  return parsePolicy(text, path);
}

/**
 * Endpoints and models the policy names (defaults, protected endpoints, bindings, retraining,
 * monitors), each once and models as full names, for `doctor` to check that they exist.
 */
export function policyTargets(policy: Policy): { endpoints: string[]; models: string[] } {
  const endpoints = new Set<string>();
  const models = new Set<string>();
  const addModel = (name: string) => {
    try {
      models.add(resolveModelName(name, policy.defaults));
    } catch {
      // A name the policy check let through but that cannot be resolved is reported there.
    }
  };
  if (policy.defaults.endpoint) endpoints.add(policy.defaults.endpoint);
  for (const p of policy.protectedEndpoints) endpoints.add(p.name);
  for (const b of policy.bindings ?? []) {
    endpoints.add(b.endpoint);
    addModel(b.model);
  }
  for (const model of Object.keys(policy.retraining ?? {})) addModel(model);
  for (const m of Object.values(policy.monitors ?? {})) {
    addModel(m.model);
    if (m.modelIds && !Array.isArray(m.modelIds)) endpoints.add(m.modelIds.endpoint);
  }
  return { endpoints: [...endpoints], models: [...models] };
}

/** Every user group the policy refers to, as written (`@handle` or `S…`), without duplicates. */
export function groupRefsIn(policy: Policy): string[] {
  const refs = new Set<string>();
  for (const rule of Object.values(policy.access)) for (const g of rule?.groups ?? []) refs.add(g);
  for (const p of policy.protectedEndpoints) for (const g of p.allow?.groups ?? []) refs.add(g);
  for (const g of gateGroupRefs(policy)) refs.add(g);
  return [...refs];
}
