/**
 * `/mlops models <model>`: the versions of a model, newest first, with status, creation time,
 * creator and aliases.
 */
import { z } from 'zod';
import type { Actor, Origin, ParsedCommand, Reply } from '../domain/vocabulary.js';
import { buildModelsReply } from '../slack/blocks/models.js';
import type { CommandDeps } from './deps.js';
import { modelRefSchema } from './schemas.js';

export const modelsInputSchema = z
  .object({ subcommand: z.literal('models'), model: modelRefSchema })
  .strict();

export type ModelsInput = Extract<ParsedCommand, { subcommand: 'models' }>;

export async function handleModels(
  input: ModelsInput,
  deps: CommandDeps,
  _actor: Actor,
  _origin: Origin,
): Promise<Reply> {
  const versions = await deps.registry.listVersions(input.model);
  return buildModelsReply({
    model: input.model,
    versions: [...versions].sort((a, b) => b.version - a.version),
    workspaceHost: deps.workspaceHost,
  });
}
