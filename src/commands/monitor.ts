/**
 * `/mlops monitor <create|refresh|status> [monitor]`: a policy monitor on Databricks. `create`
 * makes it as the policy's `setup` says (planned, then confirmed with Create); `refresh` starts a
 * refresh and posts how it ended; `status` shows its state, last refresh, tables and dashboard.
 */
import { z } from 'zod';
import { UserError } from '../domain/errors.js';
import type { Actor, Origin, ParsedCommand, Reply } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import { type CommandSpec, noEndpoint } from './spec.js';

export const MONITOR_ACTIONS = ['create', 'refresh', 'status'] as const;

export const monitorInputSchema = z
  .object({
    subcommand: z.literal('monitor'),
    action: z.enum(MONITOR_ACTIONS, {
      error: (i) =>
        i.input === undefined
          ? 'Say what to do: create, refresh or status.'
          : `"${String(i.input)}" is not create, refresh or status.`,
    }),
    monitor: z
      .string()
      .regex(
        /^[a-z][a-z0-9_-]{0,39}$/i,
        'A monitor name is the key under monitors: in the policy file, e.g. churn.',
      )
      .optional(),
  })
  .strict();

export type MonitorInput = Extract<ParsedCommand, { subcommand: 'monitor' }>;

export async function handleMonitor(
  input: MonitorInput,
  deps: CommandDeps,
  actor: Actor,
  origin: Origin,
): Promise<Reply> {
  const desk = deps.monitoring;
  if (!desk) throw new UserError('no_monitors', {});
  switch (input.action) {
    case 'create':
      return desk.create(input.monitor, actor, origin);
    case 'refresh':
      return desk.refresh(input.monitor, actor, origin);
    case 'status':
      return desk.status(input.monitor);
  }
}

export const monitorCommand: CommandSpec<'monitor'> = {
  name: 'monitor',
  aliases: ['monitors'],
  summary: 'Create, refresh or show a policy monitor on Databricks',
  usage: '/mlops monitor <create|refresh|status> [monitor]',
  mutating: false,
  takesDryRun: false,
  details: [
    'create makes the monitor as monitors.<name>.setup says (inference-log profile, custom metrics, slices, baseline, output schema), after you press Create on its plan.',
    'refresh recomputes its metric tables and posts how it ended; status shows its state, last refresh, tables and dashboard. The monitor may be left out when the policy has one.',
  ],
  examples: ['/mlops monitor status', '/mlops monitor create churn', '/mlops monitor refresh churn'],
  schema: monitorInputSchema,
  parse(w) {
    const { words } = w.split();
    w.tooMany(words, 2);
    return w.validate(monitorInputSchema, {
      subcommand: 'monitor',
      action: words[0]?.text.toLowerCase(),
      ...(words[1] !== undefined ? { monitor: words[1].text.toLowerCase() } : {}),
    });
  },
  handle: handleMonitor,
  endpointOf: noEndpoint,
};
