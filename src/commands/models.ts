/**
 * `/mlops models <model>`: the versions of a model, newest first, with status, creation time,
 * creator and aliases.
 */
import { z } from 'zod';
import type { Actor, Origin, ParsedCommand, Reply } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import { modelRefSchema } from './schemas.js';
import { type CommandSpec, noEndpoint } from './spec.js';

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
  return deps.views.models({
    model: input.model,
    versions: [...versions].sort((a, b) => b.version - a.version),
    workspaceHost: deps.workspaceHost,
  });
}

export const modelsCommand: CommandSpec<'models'> = {
  name: 'models',
  aliases: ['versions'],
  summary: 'List the versions of a model with status, creation time, creator and aliases',
  usage: '/mlops models <model>',
  mutating: false,
  takesDryRun: false,
  details: [
    'Newest version first. A short name like churn_model uses the default catalog and schema; schema.model uses the default catalog.',
  ],
  examples: ['/mlops models churn_model', '/mlops models acme.mlops.churn_model'],
  schema: modelsInputSchema,
  parse(w, defaults) {
    const { words } = w.split();
    w.tooMany(words, 1);
    const parsed = w.validate(modelsInputSchema, { subcommand: 'models', model: words[0]?.text });
    return { ...parsed, model: w.resolveModel(parsed.model, defaults) };
  },
  handle: handleModels,
  endpointOf: noEndpoint,
};
