/**
 * The twin's views.* Web API methods (no scope needed, Tier 4 on Slack): publish a Home tab, open a
 * modal with a trigger_id, update an open modal. State lives in `state.views` (views.ts).
 */
import type { MethodResult, MethodSpec } from './method-spec.js';
import { type TwinView, toApiView } from './views.js';

type Args = Record<string, unknown>;

const str = (args: Args, key: string): string | undefined =>
  typeof args[key] === 'string' && args[key] !== '' ? (args[key] as string) : undefined;

/** A view passed as a JSON string that did not parse stays a string: Slack answers invalid_arguments. */
const viewOf = (args: Args): unknown => args.view;

const answer = (
  result: { ok: true; view: TwinView } | ({ ok: false } & Record<string, unknown>),
): MethodResult => (result.ok ? { ok: true, view: toApiView(result.view) } : result);

export const VIEW_METHODS: Record<string, MethodSpec> = {
  'views.publish': {
    handle: (args, ctx) => {
      const user = str(args, 'user_id');
      if (!user || !ctx.state.users.has(user)) return { ok: false, error: 'user_not_found' };
      return answer(ctx.state.views.publish(user, viewOf(args), str(args, 'hash')));
    },
  },
  'views.open': {
    handle: (args, ctx) => answer(ctx.state.views.open(str(args, 'trigger_id'), viewOf(args))),
  },
  'views.update': {
    handle: (args, ctx) => {
      const viewId = str(args, 'view_id');
      const externalId = str(args, 'external_id');
      if (!viewId && !externalId) return { ok: false, error: 'invalid_arguments' };
      return answer(
        ctx.state.views.update(
          { ...(viewId ? { viewId } : {}), ...(externalId ? { externalId } : {}) },
          viewOf(args),
          str(args, 'hash'),
        ),
      );
    },
  },
};
