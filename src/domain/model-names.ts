import { z } from 'zod';
import { type ErrorDetails, issueOf, UserError } from './errors.js';

/** One part of a Unity Catalog name as the bot accepts it: letters, digits, underscore, hyphen. */
const NAME_PART = /^[A-Za-z0-9_-]+$/;
/** UC names are case-insensitive and stored lower-case; each part is at most 255 characters. */
const MAX_PART = 255;

export interface ModelName {
  catalog: string;
  schema: string;
  model: string;
  /** `catalog.schema.model`, lower-case. */
  fullName: string;
}

type NameProblem = ErrorDetails<'invalid_model_name'>['problem'];

function partProblem(part: string): NameProblem | undefined {
  if (part === '') return { kind: 'empty_part' };
  if (part.length > MAX_PART) return { kind: 'part_too_long', max: MAX_PART };
  if (!NAME_PART.test(part)) return { kind: 'part_characters', part };
  return undefined;
}

/**
 * Splits and checks a three-part Unity Catalog model name; the result is lower-case because UC
 * names are case-insensitive.
 *
 * @example parseModelName('acme.mlops.churn_model') // { catalog: 'acme', schema: 'mlops', model: 'churn_model', ... }
 */
export function parseModelName(input: string): ModelName {
  const trimmed = input.trim();
  const parts = trimmed.split('.');
  const problem: NameProblem | undefined =
    parts.length !== 3
      ? { kind: 'parts', count: parts.length }
      : parts.map(partProblem).find((p) => p !== undefined);
  if (problem) throw new UserError('invalid_model_name', { input: trimmed, problem });
  const [catalog, schema, model] = parts.map((p) => p.toLowerCase()) as [string, string, string];
  return { catalog, schema, model, fullName: `${catalog}.${schema}.${model}` };
}

/**
 * Turns what a user typed into a full model name: `model` gets the default catalog and schema,
 * `schema.model` the default catalog, and `catalog.schema.model` is taken as is.
 *
 * @example resolveModelName('churn_model', { catalog: 'acme', schema: 'mlops' }) // 'acme.mlops.churn_model'
 */
export function resolveModelName(input: string, defaults: { catalog: string; schema: string }): string {
  const trimmed = input.trim();
  const parts = trimmed.split('.');
  const full =
    parts.length === 1
      ? `${defaults.catalog}.${defaults.schema}.${trimmed}`
      : parts.length === 2
        ? `${defaults.catalog}.${trimmed}`
        : trimmed;
  return parseModelName(full).fullName;
}

/** Alias names: a letter or underscore first, then letters, digits and underscores. */
const ALIAS = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Checks an alias name. Aliases are case-insensitive, so `Champion` and `champion` are one alias;
 * `latest` and `v<number>` are refused because MLflow gives them another meaning.
 *
 * @example parseAliasName('Champion') // 'Champion'
 */
export function parseAliasName(input: string): string {
  const alias = input.trim();
  const reserved = alias.toLowerCase() === 'latest' || /^v\d+$/i.test(alias);
  if (!ALIAS.test(alias) || alias.length > MAX_PART || reserved) {
    throw new UserError('invalid_alias_name', { alias, reserved });
  }
  return alias;
}

/** True when two alias names denote the same alias (aliases are case-insensitive). */
export const sameAlias = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** Zod schema for a full model name in command input; parses to the lower-case full name. */
export const modelNameSchema = z.string().transform((s, ctx) => {
  try {
    return parseModelName(s).fullName;
  } catch (e) {
    ctx.addIssue(issueOf(e));
    return z.NEVER;
  }
});

/** Zod schema for a model version number as typed by a user ("7" or "v7"). */
export const versionNumberSchema = z
  .string()
  .trim()
  .regex(/^v?\d+$/i, 'a version is a whole number, e.g. 7')
  .transform((s) => Number(s.replace(/^v/i, '')))
  .refine((n) => Number.isSafeInteger(n) && n > 0, 'a version is a whole number from 1 up');
