/**
 * Apply, Cancel and the next step on a change's message. Rights are checked again on every click
 * (channel and the subcommand's right for the endpoint); only the requester may apply (the
 * pipeline says so). The next step (promote to Production, roll back) is read from the stored
 * change, never from the button, and runs its command's own plan path as the clicker.
 */

import { commandOfNextStep, nextStepOf } from '../../changes/next-step.js';
import type { RunningChangePipeline } from '../../changes/pipeline.js';
import type { ChangeStore } from '../../changes/store.js';
import type { Actor, MutatingCommand, Origin, Reply } from '../../domain/vocabulary.js';
import { ACTION_APPLY, ACTION_CANCEL, ACTION_CHANGE_NEXT_STEP } from '../blocks/action-ids.js';
import { buildNoNextStepNotice } from '../blocks/change-notices.js';
import type { Authorise } from '../listener-kit.js';
import type { ActionTable, Click } from './actions.js';

export interface ChangeActionDeps {
  pipeline: Pick<RunningChangePipeline, 'apply' | 'cancel'>;
  /** Which subcommand and endpoint a clicked change is about. */
  store: Pick<ChangeStore, 'get'>;
  authorise: Authorise;
  /** Runs a command as if the clicker had typed it (after the rights check here). */
  runCommand: (input: MutatingCommand, actor: Actor, origin: Origin) => Promise<Reply>;
}

/** @example const table = changeActions({ pipeline, store, authorise, runCommand }); */
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
    [ACTION_CHANGE_NEXT_STEP]: {
      lane: 'default',
      async handle(click) {
        const change = await deps.store.get(click.value);
        const step = change ? nextStepOf(change.plan, change.status) : undefined;
        if (!change || !step) return buildNoNextStepNotice(click.value);
        const input = commandOfNextStep(step);
        const channelId = click.channelId || change.channel;
        await deps.authorise(
          click.actor,
          channelId,
          input.subcommand,
          input.subcommand === 'rollback' ? input.endpoint : undefined,
        );
        // A second click finds the first one's plan or request (the trigger id is the change's).
        return deps.runCommand(input, click.actor, { channelId, triggerId: `next:${change.id}` });
      },
    },
  };
}
