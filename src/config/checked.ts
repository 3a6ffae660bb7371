/**
 * Building blocks of the policy schemas (policy.ts, policy-gates.ts, policy-monitors.ts): a
 * string check whose message names the value and whose fix travels with the issue, so the
 * start-up report can say what is wrong and how to fix it.
 */
import { z } from 'zod';

/** A value as it should appear in a message: strings quoted, anything else as JSON. */
export const show = (v: unknown): string => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));

/**
 * @example checked((v) => /^U/.test(v), (v) => `${show(v)} is not a user id`, () => 'use the member id')
 */
export function checked(
  test: (v: string) => boolean,
  problem: (v: string) => string,
  fix: (v: string) => string,
) {
  return z.string().check((ctx) => {
    if (!test(ctx.value)) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: problem(ctx.value),
        params: { fix: fix(ctx.value) },
      });
    }
  });
}
