/**
 * Create and Cancel on a `/mlops monitor create` plan. Rights are checked again on every click
 * (channel and the `monitor` right); only the requester may decide (the desk says so).
 */
import type { MonitorDesk } from '../../monitoring/service.js';
import { ACTION_MONITOR_CANCEL, ACTION_MONITOR_CREATE } from '../blocks/action-ids.js';
import type { Authorise } from '../listener-kit.js';
import type { ActionTable } from './actions.js';

/** @example const table = monitorActions({ desk, authorise }); */
export function monitorActions(deps: {
  desk: Pick<MonitorDesk, 'confirm' | 'cancel'>;
  authorise: Authorise;
}): ActionTable {
  return {
    [ACTION_MONITOR_CREATE]: {
      lane: 'default',
      async handle({ actor, channelId, value }) {
        await deps.authorise(actor, channelId, 'monitor', undefined);
        return deps.desk.confirm(value, actor);
      },
    },
    [ACTION_MONITOR_CANCEL]: {
      lane: 'default',
      async handle({ actor, channelId, value }) {
        await deps.authorise(actor, channelId, 'monitor', undefined);
        return deps.desk.cancel(value, actor);
      },
    },
  };
}
