/**
 * `/mlops status [endpoint]`: one endpoint in detail (readiness, rollout, served versions, traffic,
 * aliases, link), or every endpoint on one compact line each.
 */
import { z } from 'zod';
import { isUserError } from '../domain/errors.js';
import type { Registry } from '../domain/ports/registry.js';
import type { Endpoint } from '../domain/ports/serving.js';
import type { Actor, Origin, ParsedCommand, Reply } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import { endpointNameSchema } from './schemas.js';
import type { CommandSpec } from './spec.js';
import { servedKey } from './views.js';

export const statusInputSchema = z
  .object({ subcommand: z.literal('status'), endpoint: endpointNameSchema.optional() })
  .strict();

export type StatusInput = Extract<ParsedCommand, { subcommand: 'status' }>;

/**
 * Aliases pointing at the versions an endpoint serves or is rolling out, keyed by `servedKey`.
 * A model the bot may not read just shows no aliases: status should still answer.
 */
export async function aliasesOfServed(
  endpoint: Endpoint,
  registry: Registry,
): Promise<Map<string, string[]>> {
  const models = new Map<string, string>();
  for (const v of [
    ...(endpoint.current?.servedVersions ?? []),
    ...(endpoint.pending?.servedVersions ?? []),
  ]) {
    if (v.modelName) models.set(v.modelName.toLowerCase(), v.modelName);
  }
  const aliases = new Map<string, string[]>();
  await Promise.all(
    [...models.values()].map(async (name) => {
      try {
        const model = await registry.getModel(name);
        for (const a of model.aliases) {
          const k = servedKey(name, a.version);
          aliases.set(k, [...(aliases.get(k) ?? []), a.alias]);
        }
      } catch (e) {
        if (!isUserError(e)) throw e;
      }
    }),
  );
  return aliases;
}

export async function handleStatus(
  input: StatusInput,
  deps: CommandDeps,
  _actor: Actor,
  _origin: Origin,
): Promise<Reply> {
  if (!input.endpoint) {
    const endpoints = await deps.serving.list();
    return deps.views.endpointList(endpoints, deps.workspaceHost);
  }
  const endpoint = await deps.serving.get(input.endpoint);
  const aliases = await aliasesOfServed(endpoint, deps.registry);
  return deps.views.status({ endpoint, aliases, workspaceHost: deps.workspaceHost });
}

export const statusCommand: CommandSpec<'status'> = {
  name: 'status',
  summary: 'Show an endpoint: readiness, rollout, served versions, traffic and aliases',
  usage: '/mlops status [endpoint]',
  mutating: false,
  takesDryRun: false,
  details: [
    'With an endpoint: whether it is ready, any rollout in progress and what is pending, the served versions with size and scale-to-zero, the traffic split, the aliases pointing at the served versions, and a link to the endpoint page.',
    'Without: every endpoint, one line each.',
  ],
  examples: ['/mlops status', '/mlops status churn-endpoint'],
  schema: statusInputSchema,
  parse(w) {
    const { words } = w.split();
    w.tooMany(words, 1);
    const endpoint = words[0]?.text;
    return w.validate(statusInputSchema, {
      subcommand: 'status',
      ...(endpoint !== undefined ? { endpoint } : {}),
    });
  },
  handle: handleStatus,
  endpointOf: (input) => input.endpoint,
};
