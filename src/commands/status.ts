/**
 * `/mlops status [endpoint]`: one endpoint in detail (readiness, rollout, served versions, traffic,
 * aliases, link), or every endpoint on one compact line each.
 */
import { z } from 'zod';
import { isUserError } from '../domain/errors.js';
import type { Registry } from '../domain/ports/registry.js';
import type { Endpoint } from '../domain/ports/serving.js';
import type { Actor, Origin, ParsedCommand, Reply } from '../domain/vocabulary.js';
import { buildEndpointListReply } from '../slack/blocks/endpoint-list.js';
import { buildStatusReply, servedKey } from '../slack/blocks/status.js';
import type { CommandDeps } from './deps.js';
import { endpointNameSchema } from './schemas.js';

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
    return buildEndpointListReply(endpoints, deps.workspaceHost);
  }
  const endpoint = await deps.serving.get(input.endpoint);
  const aliases = await aliasesOfServed(endpoint, deps.registry);
  return buildStatusReply({ endpoint, aliases, workspaceHost: deps.workspaceHost });
}
