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

const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const GROUP_ID = /^S[A-Z0-9]{2,}$/;
const GROUP_HANDLE = /^@[a-z0-9][a-z0-9._-]*$/i;
const CHANNEL_ID = /^[CG][A-Z0-9]{2,}$/;
const ENDPOINT_NAME = /^[A-Za-z0-9_-]{1,63}$/;

/** A Slack member id, e.g. U0REQUEST (W… on Enterprise Grid). */
export const userIdSchema = checked(
  (v) => USER_ID.test(v),
  (v) =>
    GROUP_ID.test(v) || v.startsWith('@')
      ? `${show(v)} is ${v.startsWith('@') ? 'a name' : 'a user group'}, not a Slack user id (U… or W…)`
      : `${show(v)} is not a Slack user id (U… or W…)`,
  (v) =>
    GROUP_ID.test(v) || GROUP_HANDLE.test(v)
      ? 'move user groups under `groups:`; under `users:` list member ids'
      : "use the member id from the user's profile (⋮ → Copy member ID)",
);

/** A user group: its handle with the @ (`@ml-approvers`) or its id (`S0APPROVERS`). */
export const groupRefSchema = checked(
  (v) => GROUP_ID.test(v) || GROUP_HANDLE.test(v),
  (v) =>
    USER_ID.test(v)
      ? `${show(v)} is a user id, not a user group`
      : `${show(v)} is not a user group reference (@handle or S… id)`,
  (v) =>
    USER_ID.test(v)
      ? 'move it under `users:`'
      : /^[a-z0-9][a-z0-9._-]*$/.test(v)
        ? `write the handle with its @ and in quotes: "@${v}"`
        : 'write the group\'s handle in quotes, e.g. "@ml-approvers", or its id (S…)',
);

/** A channel id (C… public, G… older private channels). */
export const channelIdSchema = checked(
  (v) => CHANNEL_ID.test(v),
  (v) =>
    v.startsWith('#') ? `${show(v)} is a channel name, not a channel id` : `${show(v)} is not a channel id`,
  () => "use the channel id (C…) shown at the bottom of the channel's About tab",
);

/** A serving endpoint name. */
export const endpointNameSchema = checked(
  (v) => ENDPOINT_NAME.test(v),
  (v) => `${show(v)} is not a serving endpoint name`,
  () => 'use the name as shown under Serving: 1–63 letters, digits, "-" or "_"',
);
