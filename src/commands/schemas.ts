/**
 * Zod pieces shared by the subcommand input schemas. They take the words the parser split out of
 * the command text and turn them into typed values, with messages written for the person typing.
 */
import { z } from 'zod';
import { MAX_SERVED_VERSIONS } from '../domain/endpoint-config.js';
import { issueOf } from '../domain/errors.js';
import { parseAliasName } from '../domain/model-names.js';
import type { VersionRef, WorkloadSizeInput } from '../domain/vocabulary.js';

const ENDPOINT_NAME = /^[A-Za-z0-9_-]{1,63}$/;
const WORKLOAD_SIZES: readonly WorkloadSizeInput[] = ['Small', 'Medium', 'Large'];

/** Most versions one traffic split may name (Databricks' limit of served versions per endpoint). */
export const MAX_SPLIT_VERSIONS = MAX_SERVED_VERSIONS;

/**
 * An endpoint name: 1–63 letters, digits, "-" or "_".
 *
 * @example endpointNameSchema.parse('churn-endpoint')
 */
export const endpointNameSchema = z.string({ error: 'Say which endpoint.' }).transform((s, ctx) => {
  if (!ENDPOINT_NAME.test(s)) {
    ctx.addIssue({
      code: 'custom',
      message: `"${s}" is not an endpoint name: use 1–63 letters, digits, "-" or "_".`,
    });
    return z.NEVER;
  }
  return s;
});

/** A model name as typed (short, schema.model or catalog.schema.model); parse.ts resolves it. */
export const modelRefSchema = z
  .string({ error: 'Say which model, e.g. churn_model.' })
  .min(1, 'Say which model, e.g. churn_model.');

/**
 * A version number as typed: `3` or `v3`.
 *
 * @example versionSchema.parse('v3') // 3
 */
export const versionSchema = z.string({ error: 'Say which version, e.g. 3.' }).transform((s, ctx) => {
  const m = /^v?(\d+)$/i.exec(s);
  const n = m ? Number(m[1]) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not a version: write a whole number like 3 or v3.` });
    return z.NEVER;
  }
  return n;
});

/**
 * A version or an alias: `3`, `v3` or `@Champion`.
 *
 * @example versionRefSchema.parse('@Champion') // { alias: 'Champion' }
 */
export const versionRefSchema = z
  .string({ error: 'Say which version (e.g. 3) or alias (e.g. @Champion).' })
  .transform((s, ctx): VersionRef => {
    if (s.startsWith('@')) {
      try {
        return { alias: parseAliasName(s.slice(1)) };
      } catch (e) {
        ctx.addIssue(issueOf(e));
        return z.NEVER;
      }
    }
    const m = /^v?(\d+)$/i.exec(s);
    const n = m ? Number(m[1]) : Number.NaN;
    if (Number.isSafeInteger(n) && n >= 1) return { version: n };
    const aliasLike = /^[A-Za-z_][A-Za-z0-9_]*$/.test(s);
    ctx.addIssue({
      code: 'custom',
      message: aliasLike
        ? `"${s}" is not a version. To use an alias, write @${s}.`
        : `"${s}" is not a version or an alias: write 3, v3 or @Champion.`,
    });
    return z.NEVER;
  });

/**
 * A workload size, any case: `small` → 'Small'.
 */
export const sizeSchema = z.string().transform((s, ctx): WorkloadSizeInput => {
  const size = WORKLOAD_SIZES.find((w) => w.toLowerCase() === s.toLowerCase());
  if (!size) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not a size: use Small, Medium or Large.` });
    return z.NEVER;
  }
  return size;
});

/** on/off (also true/false, yes/no), any case. */
export const onOffSchema = z.string().transform((s, ctx) => {
  const v = s.toLowerCase();
  if (['on', 'true', 'yes'].includes(v)) return true;
  if (['off', 'false', 'no'].includes(v)) return false;
  ctx.addIssue({ code: 'custom', message: `"${s}" is not on or off.` });
  return z.NEVER;
});

/**
 * One route of a split as typed: `2=90`, `v2=90` or `2=90%`.
 *
 * @example routeSchema.parse('v3=10') // { version: 3, percent: 10 }
 */
export const routeSchema = z.string().transform((s, ctx) => {
  const m = /^v?(\d+)=(.*)$/i.exec(s);
  if (!m) {
    ctx.addIssue({
      code: 'custom',
      message: `"${s}" is not a route: write <version>=<percent>, e.g. 3=10.`,
    });
    return z.NEVER;
  }
  const version = Number(m[1]);
  const raw = m[2]!.replace(/%$/, '');
  const percent = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(version) || version < 1) {
    ctx.addIssue({ code: 'custom', message: `"${s}": version ${m[1]} is not a version from 1 up.` });
    return z.NEVER;
  }
  if (!Number.isInteger(percent) || percent > 100) {
    ctx.addIssue({
      code: 'custom',
      message: `"${s}": the percentage must be a whole number from 0 to 100.`,
    });
    return z.NEVER;
  }
  return { version, percent };
});
