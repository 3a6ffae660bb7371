/**
 * Apply and Cancel on a change's plan. Rights are checked again on every click (channel and the
 * subcommand's right for the endpoint); only the requester may apply (the pipeline says so).
 */
import type { RunningChangePipeline } from '../../changes/pipeline.js';
import type { ChangeStore } from '../../changes/store.js';
import { ACTION_APPLY, ACTION_CANCEL } from '../blocks/action-ids.js';
import type { Authorise } from '../listener-kit.js';
import type { ActionTable, Click } from './actions.js';

export interface ChangeActionDeps {
  pipeline: Pick<RunningChangePipeline, 'apply' | 'cancel'>;
  /** Which subcommand and endpoint a clicked change is about. */
  store: Pick<ChangeStore, 'get'>;
  authorise: Authorise;
}

/** @example const table = changeActions({ pipeline, store, authorise }); */
export function changeActions(deps: ChangeActionDeps): ActionTable {
  const authoriseChange = async ({ actor, channelId, value }: Click) => {
    const change = await deps.store.get(value);
    if (!change) return;
    const endpoint = change.plan.kind === 'endpoint' ? change.plan.endpoint : undefined;
    await deps.authorise(actor, channelId || change.channel, change.plan.subcommand, endpoint);
  };
  return {
    [ACTION_APPLY]: {
      lane: 'default',
      async handle(click) {
        await authoriseChange(click);
        return deps.pipeline.apply(click.value, click.actor);
      },
    },
    [ACTION_CANCEL]: {
      lane: 'default',
      async handle(click) {
        await authoriseChange(click);
        return deps.pipeline.cancel(click.value, click.actor);
      },
    },
  };
}
