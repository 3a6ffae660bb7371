/**
 * `/mlops score <model>@<alias|version> <input table> [into <output table>]`: runs the policy's
 * batch-scoring job (`scoring.job`) on a table with one model version, and posts how it ended.
 */
import { z } from 'zod';
import { UserError } from '../domain/errors.js';
import type { Actor, Origin, ParsedCommand, Reply } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import type { ParseDefaults } from './parse.js';
import { modelRefSchema, versionRefSchema } from './schemas.js';
import { type CommandSpec, noEndpoint } from './spec.js';

const PART = /^[A-Za-z0-9_]{1,255}$/;

/**
 * A table as typed: `table`, `schema.table` or `catalog.schema.table` (parts of letters, digits, "_").
 */
export const tableRefSchema = z.string({ error: 'Say which table, e.g. acme.mlops.customers.' }).refine(
  (s) => {
    const parts = s.split('.');
    return parts.length >= 1 && parts.length <= 3 && parts.every((p) => PART.test(p));
  },
  {
    error: (i) =>
      `"${String(i.input)}" is not a table name: write catalog.schema.table, e.g. acme.mlops.customers.`,
  },
);

export const scoreInputSchema = z
  .object({
    subcommand: z.literal('score'),
    model: modelRefSchema,
    target: versionRefSchema,
    input: tableRefSchema,
    output: tableRefSchema.optional(),
  })
  .strict();

export type ScoreInput = Extract<ParsedCommand, { subcommand: 'score' }>;

/** A short table name in the default catalog and schema, lower-cased as Unity Catalog keeps it. */
export function resolveTableName(name: string, defaults: ParseDefaults): string {
  const parts = name.split('.');
  const full =
    parts.length === 3
      ? parts
      : parts.length === 2
        ? [defaults.catalog, ...parts]
        : [defaults.catalog, defaults.schema, ...parts];
  return full.join('.').toLowerCase();
}

export async function handleScore(
  input: ScoreInput,
  deps: CommandDeps,
  actor: Actor,
  origin: Origin,
): Promise<Reply> {
  if (!deps.scoring) throw new UserError('scoring_not_configured', {});
  return deps.scoring.score(input, actor, origin);
}

export const scoreCommand: CommandSpec<'score'> = {
  name: 'score',
  summary: 'Score a table in batch with a model version (the policy’s scoring job)',
  usage: '/mlops score <model>@<alias|version> <input table> [into <output table>]',
  mutating: false,
  takesDryRun: false,
  details: [
    'Runs the job the policy names under scoring.job with the job parameters model_uri (models:/<model>@<alias>), input_table and output_table, follows the run and posts the rows written with a link, or Databricks’ reason when it fails.',
    'Without into, the output is <input>_scored. An output table that exists and was not written by the bot is left alone.',
  ],
  examples: [
    '/mlops score churn_model@Champion churn_baseline',
    '/mlops score churn_model@3 acme.mlops.customers into acme.mlops.customers_scored',
  ],
  schema: scoreInputSchema,
  parse(w, defaults) {
    const { words } = w.split();
    const [ref, inputTable, into, outputTable] = words.map((t) => t.text);
    const at = ref?.indexOf('@') ?? -1;
    if (ref !== undefined && at < 1) {
      w.add(
        `"${ref}" does not say which version: write <model>@<alias> or <model>@<version>, e.g. churn_model@Champion.`,
      );
    }
    if (into !== undefined && into.toLowerCase() !== 'into')
      w.add(`Expected "into <output table>", not "${into}".`);
    if (into !== undefined && outputTable === undefined) w.add('Say which output table after "into".');
    w.tooMany(words, 4);
    const after = at >= 1 ? ref!.slice(at + 1) : undefined;
    const parsed = w.validate(scoreInputSchema, {
      subcommand: 'score',
      model: at >= 1 ? ref!.slice(0, at) : ref,
      // churn_model@Champion names an alias; churn_model@3 (or @v3) a version. Without "@" the
      // problem is reported above once; a placeholder keeps the schema from saying it again.
      target:
        after === undefined
          ? ref !== undefined
            ? '1'
            : undefined
          : /^v?\d+$/i.test(after)
            ? after
            : `@${after}`,
      input: inputTable,
      ...(outputTable !== undefined ? { output: outputTable } : {}),
    });
    return {
      ...parsed,
      model: w.resolveModel(parsed.model, defaults),
      input: resolveTableName(parsed.input, defaults),
      ...(parsed.output !== undefined ? { output: resolveTableName(parsed.output, defaults) } : {}),
    };
  },
  handle: handleScore,
  endpointOf: noEndpoint,
};
